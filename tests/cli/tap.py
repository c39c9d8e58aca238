"""tap.py: what the CLI tests share: TAP checks and visible skips, and
throwaway context trees removed at the end.

    import tap
    tap.check("name", condition, detail)   # detail is printed on failure
    tap.skip("name", "chromium not installed")
    d = tap.tree({"a/b": b"x"}, b".dockerignore text")
    sys.exit(tap.finish())                  # plan, results, cleanup; 0 or 1
"""
import os
import shutil
import tempfile

_results = []   # (name, ok, skip reason or "", detail)
_cleanup = []


def check(name, cond, detail=""):
    _results.append((name, bool(cond), "", detail))


def skip(name, reason):
    """Visibly skipped: `ok N - name # SKIP reason`, never counted as passing."""
    # One line: a reason quoting a program's stderr must not break the TAP.
    _results.append((name, True, " ".join(str(reason).split()), ""))


def mkdtemp(prefix="ctxpack-test-"):
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    _cleanup.append(d)
    return d


def write(root, path, content):
    full = os.path.join(os.fsencode(root), os.fsencode(path))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(content)


def tree(files, ignore=None, prefix="ctxpack-test-"):
    """files: {path: bytes}; ignore: the .dockerignore, or None for none."""
    d = mkdtemp(prefix)
    for path, content in files.items():
        write(d, path, content)
    if ignore is not None:
        write(d, ".dockerignore", ignore)
    return d


def traced_child(pid, exe):
    """The process strace (pid) runs exe in, or None (strace forks
    short-lived probes too)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(k) for k in f.read().split()]
    except OSError:
        return None
    for k in kids:
        try:
            with open("/proc/%d/cmdline" % k, "rb") as f:
                if f.read().split(b"\0")[0] == os.fsencode(exe):
                    return k
        except OSError:
            pass
    return None


def finish(detail_chars=1500):
    """Prints the plan and the results, removes the trees; returns the exit
    status (1 if any check failed)."""
    print("1..%d" % len(_results))
    failed = 0
    for i, (name, ok, reason, detail) in enumerate(_results, 1):
        if reason:
            print("ok %d - %s # SKIP %s" % (i, name, reason))
            continue
        print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
        if not ok:
            failed += 1
            for line in repr(detail)[:detail_chars].splitlines():
                print("# " + line)
    for d in _cleanup:
        shutil.rmtree(d, ignore_errors=True)
    return 1 if failed else 0

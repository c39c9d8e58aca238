"""tap.py: what the Python tests share: TAP checks and visible skips,
throwaway context trees (removed at the end, 0000 directories too), tar
streams read back (through tests/oracle/record.py's byte-exact parser),
and the program a tracer runs.

    import tap
    tap.check("name", condition, detail)   # detail is printed on failure
    tap.skip("name", "chromium not installed")
    d = tap.tree({"a/b": b"x"}, b".dockerignore text")
    with tap.scratch("ctxcheck.") as tmp:  # removed when the block ends
        ...
    members, end = tap.read_tar(data)      # end "eof" when complete
    sys.exit(tap.finish())                  # plan, results, cleanup; 0 or 1
"""
import contextlib
import os
import shutil
import sys
import tempfile

_results = []   # (name, ok, skip reason or "", detail)
_cleanup = []


def check(name, cond, detail="", todo=""):
    """todo: a known failure, `not ok N - name # TODO todo`, not counted."""
    _results.append((name, bool(cond), "", detail, todo))


def skip(name, reason):
    """Visibly skipped: `ok N - name # SKIP reason`, never counted as passing."""
    # One line: a reason quoting a program's stderr must not break the TAP.
    _results.append((name, True, " ".join(str(reason).split()), "", ""))


def mkdtemp(prefix="ctxpack-test-"):
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    _cleanup.append(d)
    return d


def remove_tree(tmp):
    """rmtree that copes with 0000 directories left by permission cases."""
    def fix(func, path, exc):
        try:
            os.chmod(os.path.dirname(path), 0o755)
            os.chmod(path, 0o755)
        except OSError:
            pass
        try:
            func(path)
        except OSError:
            pass
    for dirpath, dirnames, _ in os.walk(tmp):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if not os.path.islink(p):
                try:
                    os.chmod(p, 0o755)
                except OSError:
                    pass
    shutil.rmtree(tmp, onerror=fix)


@contextlib.contextmanager
def scratch(prefix="ctxpack-test-"):
    """A temporary directory for one block (one case), removed when it ends
    (finish() removes the mkdtemp() ones)."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        yield tmp
    finally:
        remove_tree(tmp)


def write(root, path, content, mode=None):
    """path (str or bytes) under root, its directories made; mode: chmod'ed."""
    full = os.path.join(os.fsencode(root), os.fsencode(path))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(content)
    if mode is not None:
        os.chmod(full, mode)


def tree(files, ignore=None, prefix="ctxpack-test-", mode=None, root=None):
    """files: {path: bytes}; ignore: the .dockerignore, or None for none;
    mode: each file's (not the ignore file's); root: an existing directory
    to write into instead of a new one."""
    d = root or mkdtemp(prefix)
    for path, content in files.items():
        write(d, path, content, mode)
    if ignore is not None:
        write(d, ".dockerignore", ignore)
    return d


def _record():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
    import record
    return record


def read_tar(data):
    """A tar stream read back byte for byte (record.parse_tar): (members,
    end); end is "eof" for a complete archive, "short" for one cut inside
    a block, a header or a member (see parse_tar), and "unparsable (why)",
    with no members, for bytes that are no tar."""
    try:
        return _record().parse_tar(data)
    except ValueError as e:
        return [], "unparsable (%s)" % e


def tar_end(data):
    """How a tar stream ends: read_tar(data)[1]."""
    return read_tar(data)[1]


def child_running(pid, exe):
    """The child of pid (strace, say) running the program exe, or None
    (strace forks short-lived probes too)."""
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


def under_strace(env):
    """env for ctxpack traced by strace: in an ASan build LeakSanitizer
    refuses to run under ptrace (a fatal error at exit), so leak checking
    is off there; everything else ASan checks stays on."""
    env = dict(env)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""),
                                                 "detect_leaks=0"]))
    return env


def finish(detail_chars=1500):
    """Prints the plan and the results, removes the trees; returns the exit
    status (1 if any check failed)."""
    print("1..%d" % len(_results))
    failed = 0
    for i, (name, ok, reason, detail, todo) in enumerate(_results, 1):
        if reason:
            print("ok %d - %s # SKIP %s" % (i, name, reason))
            continue
        print("%s %d - %s%s" % ("ok" if ok else "not ok", i, name,
                                " # TODO " + todo if todo else ""))
        if not ok:
            failed += 0 if todo else 1
            # On stderr too: meson's --print-errorlogs shows a failed
            # test's stderr, not its TAP comments.
            for out in (sys.stdout, sys.stderr):
                if out is sys.stderr:
                    print("not ok %d - %s" % (i, name), file=out)
                for line in repr(detail)[:detail_chars].splitlines():
                    print("# " + line, file=out)
    for d in _cleanup:
        remove_tree(d)
    return 1 if failed else 0

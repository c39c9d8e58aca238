#!/usr/bin/env python3
"""test_inputs.py: the context's root opened once, every input read once
and bounded (TAP).

usage: test_inputs.py CTXPACK

- The root exchanged for a symlink to another directory while the rules
  are read: the archive holds the first directory's files (or the run
  fails cleanly), never the other's.  strace holds the run after the open
  of .dockerignore while the test swaps.
- .dockerignore swapped for a FIFO or rewritten after the walk, before the
  archive is written (Dockerfile outside the context: its name is appended
  to the archive's .dockerignore): no hang, and the archive's .dockerignore
  is the one the rules came from.
- A Dockerfile that is a device, a FIFO or a directory, or larger than the
  bound, and an ignore file larger than the bound: refused at once, exit 1
  (lint: 2) with one message naming the path, for pack, ls, stats, lint
  and digest.
Checks that need strace skip visibly without it."""
import io
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time

import tap

EXE = os.path.abspath(sys.argv[1])
ENV = dict(os.environ, XDG_CACHE_HOME=tap.mkdtemp("ctxpack-inputs-cache-"))
ENV.pop("SOURCE_DATE_EPOCH", None)
# strace's own processes must not be checked for leaks in an ASan build.
STRACE_ENV = dict(ENV, ASAN_OPTIONS="detect_leaks=0:" + ENV.get("ASAN_OPTIONS", ""))


def run(args, timeout=20, cwd=None):
    try:
        p = subprocess.run([EXE] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=ENV, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        return "timeout", b"", ""
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def members(data):
    """{name: bytes or None} of a tar (names without a trailing '/')."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            out[m.name.rstrip("/")] = t.extractfile(m).read() if m.isfile() else None
    return out


def child_pid(pid):
    """The traced ctxpack: strace's child."""
    return tap.child_running(pid, EXE)


def open_files(pid):
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return []
    out = []
    for fd in fds:
        try:
            out.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass
    return out


def traced(args, watch, action, delay_us=300000, timeout=30):
    """Runs ctxpack ARGS under strace, every open beneath the watched
    paths held delay_us after it returns; when the traced process has a
    file open whose path ends with watch[1] (below watch[0]), action() runs
    once.  Returns (rc, stdout, stderr, acted)."""
    root, suffix = watch
    cmd = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=open,openat,openat2"]
    for p in (root, os.path.join(root, ".dockerignore")):
        cmd += ["-P", p]
    cmd += ["-e", "inject=open,openat,openat2:delay_exit=%d" % delay_us, EXE] + args
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=STRACE_ENV)
    acted = []

    def watcher():
        end = time.monotonic() + timeout
        while time.monotonic() < end and p.poll() is None:
            k = child_pid(p.pid)
            if k and any(f.startswith(root + "/") and f.endswith(suffix)
                         for f in open_files(k)):
                action()
                acted.append(True)
                return
            time.sleep(0.002)

    t = threading.Thread(target=watcher)
    t.start()
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        # The traced ctxpack first: left behind by strace it would keep
        # the pipes open (blocked on a FIFO, say).
        k = child_pid(p.pid)
        if k:
            os.kill(k, 9)
        p.kill()
        out, err = p.communicate()
        rc = "timeout"
    t.join()
    return rc, out, err.decode(errors="replace"), bool(acted)


def have_strace():
    if not shutil.which("strace"):
        return "strace not installed (it holds the run while the test swaps)"
    p = subprocess.run(["strace", "-qq", "-o", "/dev/null", "true"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        return "strace cannot trace here (%s)" % p.stderr.decode(errors="replace")[:80]
    return None


# -- 4. the root exchanged while the rules are read ---------------------------

def test_root_swap(why):
    for builder in ("classic", "buildkit"):
        name = ("%s: the root exchanged for a symlink to another directory after"
                " .dockerignore is opened: only the first directory's files, never the"
                " other's" % builder)
        if why:
            tap.skip(name, why)
            continue
        base = tap.mkdtemp("ctxpack-swap-")
        first = os.path.join(base, "ctx")
        other = os.path.join(base, "other")
        for d, tag in ((first, b"first"), (other, b"other")):
            tap.write(d, "Dockerfile", b"FROM scratch\n")
            tap.write(d, "%s-only.txt" % tag.decode(), tag + b"\n")
            tap.write(d, "%s.log" % tag.decode(), tag + b"\n")
        tap.write(first, ".dockerignore", b"*.log\n")

        def swap():
            os.rename(first, first + ".away")
            os.symlink(other, first)

        rc, out, err, acted = traced(["pack", "--builder=" + builder, first], (first, ".dockerignore"),
                                     swap)
        names = set(members(out)) if rc == 0 else set()
        ok = acted and (rc == 0 and "first-only.txt" in names and
                        not any(n.startswith("other") for n in names) or
                        rc == 1 and len(err.splitlines()) == 1)
        tap.check(name, ok, (rc, acted, sorted(names), err))


# -- 5. .dockerignore changed between the walk and the write ------------------

def outside_tree():
    base = tap.mkdtemp("ctxpack-reread-")
    ctx = os.path.join(base, "ctx")
    tap.write(ctx, ".dockerignore", b"*.log\n")
    tap.write(ctx, "a.txt", b"a\n")
    tap.write(ctx, "x.log", b"x\n")
    tap.write(ctx, "zsub/b.txt", b"b\n")
    tap.write(base, "ext/Dockerfile", b"FROM scratch\n")
    return base, ctx, os.path.join(base, "ext", "Dockerfile")


def test_ignore_reread(why):
    cases = []
    for builder in ("classic", "buildkit"):
        cases += [("pack", builder, "a FIFO"), ("pack", builder, "rewritten"),
                  ("digest", builder, "a FIFO")]
    for cmd, builder, how in cases:
        name = ("%s --builder=%s, Dockerfile outside: .dockerignore %s after the walk: no hang,"
                " the archive's .dockerignore is the one the rules came from" % (cmd, builder, how))
        if why:
            tap.skip(name, why)
            continue
        base, ctx, df = outside_tree()
        args = [cmd, "--builder=" + builder, "-j", "1", "-f", df, ctx]
        if cmd == "digest":
            args.insert(1, "--no-cache")
        rc0, want, err0 = run(args)
        ign = os.path.join(ctx, ".dockerignore")

        def change():
            tmp = os.path.join(ctx, ".new")
            if how == "a FIFO":
                os.mkfifo(tmp)
            else:
                with open(tmp, "wb") as f:
                    f.write(b"a.txt\n")
            os.rename(tmp, ign)

        # The walk opens zsub after it has seen .dockerignore.
        rc, out, err, acted = traced(args, (ctx, "/zsub"), change, timeout=20)
        got = out
        ok = acted and rc0 == 0 and rc == 0 and got == want
        if cmd == "pack" and ok:
            m = members(out)
            ok = m.get(".dockerignore", b"").startswith(b"*.log\n")
        tap.check(name, ok, (rc0, rc, acted, err0, err, want[:200] if cmd == "digest" else ""))


# -- 9. Dockerfiles that are not regular files, or too large -------------------

def test_bad_dockerfiles():
    base = tap.mkdtemp("ctxpack-df-")
    ctx = os.path.join(base, "ctx")
    tap.write(ctx, "Dockerfile", b"FROM scratch\n")
    tap.write(ctx, "a", b"a\n")
    fifo = os.path.join(base, "fifo.Dockerfile")
    os.mkfifo(fifo)
    os.mkfifo(os.path.join(ctx, "inner.fifo"))
    os.mkdir(os.path.join(base, "dir.Dockerfile"))
    big = os.path.join(base, "big.Dockerfile")
    with open(big, "wb") as f:
        f.truncate(16 * 1024 * 1024 + 1)        # sparse: refused before any read
    exact = os.path.join(base, "exact.Dockerfile")
    with open(exact, "wb") as f:
        f.write(b"FROM scratch\n")
        f.truncate(16 * 1024 * 1024)
    link = os.path.join(base, "link.Dockerfile")
    os.symlink(os.path.join(base, "real.Dockerfile"), link)
    tap.write(base, "real.Dockerfile", b"FROM scratch\n")

    bad = [("/dev/zero", "/dev/zero", "not a regular file but a device"),
           ("/dev/null", "/dev/null", "not a regular file but a device"),
           ("a FIFO", fifo, "not a regular file but a FIFO"),
           ("a FIFO in the context", os.path.join(ctx, "inner.fifo"),
            "not a regular file but a FIFO"),
           ("a directory", os.path.join(base, "dir.Dockerfile"), "Is a directory"),
           ("16 MiB + 1 byte", big, "is larger than 16 MiB")]
    commands = [["pack"], ["ls"], ["stats"], ["lint"], ["digest", "--no-cache"]]
    for what, path, words in bad:
        for builder in ("classic", "buildkit"):
            for c in commands:
                rc, out, err = run(c + ["--builder=" + builder, "-f", path, ctx], timeout=20)
                want = 2 if c[0] == "lint" else 1
                lines = err.splitlines()
                tap.check("%s --builder=%s -f %s: refused at once, exit %d, one message naming"
                          " it" % (c[0], builder, what, want),
                          rc == want and len(lines) == 1 and path in lines[0] and
                          words in lines[0] and (c[0] == "lint" or out == b""),
                          (rc, err, out[:100]))
    for what, path in (("exactly 16 MiB", exact), ("a symlink to a regular file", link)):
        for builder in ("classic", "buildkit"):
            rc, out, err = run(["pack", "--builder=" + builder, "-f", path, ctx], timeout=60)
            m = members(out) if rc == 0 else {}
            df = [v for k, v in m.items() if k.startswith(".dockerfile.")]
            size = os.path.getsize(path)
            tap.check("pack --builder=%s -f %s outside the context: accepted, its bytes in the"
                      " archive" % (builder, what),
                      rc == 0 and len(df) == 1 and len(df[0]) == size, (rc, err, sorted(m)))


def test_big_ignore_file():
    for name, where in ((".dockerignore", ".dockerignore"),
                        ("Dockerfile.dockerignore", "Dockerfile.dockerignore")):
        for builder in ("classic", "buildkit"):
            if builder == "classic" and where != ".dockerignore":
                continue
            ctx = tap.tree({"Dockerfile": b"FROM scratch\n", "a": b"a\n"})
            with open(os.path.join(ctx, where), "wb") as f:
                f.write(b"a\n")
                f.truncate(16 * 1024 * 1024 + 1)
            for c in (["pack"], ["ls"], ["check-ignore", "a"]):
                rc, out, err = run(c + ["--builder=" + builder], cwd=ctx, timeout=20)
                lines = err.splitlines()
                tap.check("%s --builder=%s: a %s of 16 MiB + 1 byte is refused, exit %s, one"
                          " message" % (c[0], builder, name, "1" if c[0] != "check-ignore" else "non-zero"),
                          rc not in (0, "timeout") and len(lines) == 1 and
                          ("'%s' is larger than 16 MiB" % where) in lines[0] and out == b"",
                          (rc, err, out[:100]))


def main():
    why = have_strace()
    test_root_swap(why)
    test_ignore_reread(why)
    test_bad_dockerfiles()
    test_big_ignore_file()
    sys.exit(tap.finish())


if __name__ == "__main__":
    main()

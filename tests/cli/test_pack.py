#!/usr/bin/env python3
"""End-to-end tests of `ctxpack pack` and `ctxpack ls`: where the archive
goes (terminal, -o, pipes, full disks), failures and signals, determinism
across thread counts, mtime clamping, compression, a Dockerfile outside the
context, extreme names, and `docker build -` (through the stand-in engine of
tests/oracle/fakeengine.py) accepting what pack writes.  TAP output; checks
that need a missing tool (docker, zstd, root) are reported as `# SKIP`.

usage: test_pack.py PATH_TO_CTXPACK"""
import gzip
import io
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import fakeengine  # noqa: E402
import fuzz_docker  # noqa: E402
import record  # noqa: E402
import tap  # noqa: E402
check = tap.check
skip = tap.skip

CTXPACK = os.path.abspath(sys.argv[1])
NOBODY = 65534


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env.update(extra or {})
    return env


def run(args, cwd=None, stdin=b"", env=None, stdout=subprocess.PIPE, preexec_fn=None,
        timeout=60):
    p = subprocess.run([CTXPACK] + args, cwd=cwd, input=stdin, stdout=stdout,
                       stderr=subprocess.PIPE, env=clean_env(env), preexec_fn=preexec_fn,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def mkdtemp(prefix="ctxpack-pack-"):
    return tap.mkdtemp(prefix)


def tree(files, ignore=None, root=None):
    """files: {path (str or bytes): content bytes}, mode 0644.  Returns the dir."""
    return tap.tree(files, ignore, "ctxpack-pack-", mode=0o644, root=root)


def leftovers(d):
    """Temporary files -o may have left in d."""
    return [n for n in os.listdir(d) if ".ctxpack-" in n]


def tar_names(data):
    return [m["name"] for m in record.parse_tar(data)[0]]


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


# -- stdout is a terminal -----------------------------------------------------

def run_on_pty(args, cwd):
    """Run ctxpack with stdout on a pty in raw mode; return (rc, bytes the
    terminal received, stderr)."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    got = []

    def reader():
        while True:
            try:
                b = os.read(master, 65536)
            except OSError:         # EIO: the last writer closed the slave
                return
            if not b:
                return
            got.append(b)
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    p = subprocess.Popen([CTXPACK] + args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=subprocess.PIPE, env=clean_env())
    os.close(slave)
    err = p.stderr.read()
    rc = p.wait(timeout=30)
    t.join(5)
    os.close(master)
    return rc, b"".join(got), err


def test_terminal(ctx):
    rc, plain, _ = run(["pack", "."], cwd=ctx)
    rc, out, err = run_on_pty(["pack", "."], ctx)
    check("stdout a terminal: exit 2, nothing written, says why",
          rc == 2 and out == b"" and b"terminal" in err, (rc, out[:80], err))
    rc, out, err = run_on_pty(["pack", "-o", "-", "."], ctx)
    check("-o - on a terminal is refused too", rc == 2 and out == b"", (rc, out[:80], err))
    rc, out, err = run_on_pty(["pack", "--force", "."], ctx)
    check("--force writes the archive to the terminal",
          rc == 0 and out == plain, (rc, len(out), len(plain), err))
    outdir = mkdtemp()
    rc, out, err = run_on_pty(["pack", "-o", os.path.join(outdir, "t.tar"), "."], ctx)
    with open(os.path.join(outdir, "t.tar"), "rb") as f:
        data = f.read()
    check("-o FILE works with stdout on a terminal", rc == 0 and out == b"" and data == plain,
          (rc, err))


# -- -o is atomic -------------------------------------------------------------

def test_output_file(ctx):
    rc, plain, err = run(["pack", "."], cwd=ctx)
    outdir = mkdtemp()
    target = os.path.join(outdir, "ctx.tar")
    old_umask = os.umask(0o022)
    try:
        rc, out, err = run(["pack", "-o", target, "."], cwd=ctx)
    finally:
        os.umask(old_umask)
    with open(target, "rb") as f:
        data = f.read()
    check("-o FILE: exit 0, the file is the archive, nothing on stdout",
          rc == 0 and out == b"" and data == plain, (rc, err))
    check("-o FILE: no temporary file left after success", leftovers(outdir) == [],
          os.listdir(outdir))
    check("-o FILE: mode 0666 minus the umask",
          oct(os.stat(target).st_mode & 0o7777) == oct(0o644), oct(os.stat(target).st_mode))
    rc, out, err = run(["pack", "-o", "ctx2.tar", ctx], cwd=outdir)
    check("-o with a relative name and DIR elsewhere",
          rc == 0 and open(os.path.join(outdir, "ctx2.tar"), "rb").read() == plain, err)

    # A failure root cannot avoid: a malformed .dockerignore.
    bad = tree({"Dockerfile": b"FROM scratch\n", "a": b"a"}, b"a\n[b-\n")
    with open(target, "wb") as f:
        f.write(b"OLD")
    rc, out, err = run(["pack", "-o", target, "."], cwd=bad)
    check("-o FILE failing (bad .dockerignore): exit 1, target unchanged, no temp file",
          rc == 1 and err and open(target, "rb").read() == b"OLD" and leftovers(outdir) == [],
          (rc, err, os.listdir(outdir)))
    rc, out, err = run(["pack", "-o", os.path.join(outdir, "new.tar"), "."], cwd=bad)
    check("-o FILE failing: no file created",
          rc == 1 and not os.path.exists(os.path.join(outdir, "new.tar"))
          and leftovers(outdir) == [], os.listdir(outdir))
    rc, out, err = run(["pack", "-o", "/nonexistent-ctxpack-dir/x.tar", "."], cwd=ctx)
    check("-o into a missing directory: exit 1 naming it",
          rc == 1 and b"/nonexistent-ctxpack-dir/x.tar" in err, (rc, err))


def test_output_todo(ctx):
    """-o corner cases: the output inside the context, stdout closed, a device."""
    rc, plain, _ = run(["pack", "."], cwd=ctx)
    # The output file inside the context: its temporary file is packed.
    inner = tree({"Dockerfile": b"FROM scratch\n", "a": b"a"})
    rc, out, err = run(["pack", "-o", "ctx.tar", "."], cwd=inner)
    names = tar_names(open(os.path.join(inner, "ctx.tar"), "rb").read()) if rc == 0 else []
    check("-o FILE inside the context: its temporary file is not packed",
          rc == 0 and names == ["Dockerfile", "a"], (rc, names, err),
          )
    # stdout closed: mkostemp() gets fd 1, taken for stdout.
    outdir = mkdtemp()
    target = os.path.join(outdir, "x.tar")
    p = subprocess.run([CTXPACK, "pack", "-o", target, "."], cwd=ctx, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env=clean_env(),
                       preexec_fn=lambda: os.close(1))
    check("-o FILE with stdout closed: FILE is written, no temp file left",
          p.returncode == 0 and os.path.exists(target) and open(target, "rb").read() == plain
          and leftovers(outdir) == [], (p.returncode, os.listdir(outdir), p.stderr),
          )
    # -o onto a device (a private copy of /dev/null) must not replace it.
    if os.geteuid() != 0:
        skip("-o onto a character device writes to it", "needs root for mknod")
        return
    dev = os.path.join(mkdtemp(), "null")
    os.mknod(dev, 0o666 | 0o020000, os.makedev(1, 3))
    rc, out, err = run(["pack", "-o", dev, "."], cwd=ctx)
    st = os.lstat(dev)
    check("-o onto a character device (a copy of /dev/null) leaves the device in place",
          rc == 0 and (st.st_mode & 0o170000) == 0o020000 and st.st_rdev == os.makedev(1, 3),
          (rc, oct(st.st_mode), err))


def test_unreadable():
    name = "unreadable: exit 1 naming the path, nothing left with -o"
    if os.geteuid() != 0:
        skip(name, "needs root to switch to uid %d" % NOBODY)
        return
    ctx = tree({"Dockerfile": b"FROM scratch\n", "ok.txt": b"ok",
                "sub/secret.txt": b"secret"})
    secret = os.path.join(ctx, "sub", "secret.txt")
    os.chmod(secret, 0o600)
    outdir = mkdtemp()
    os.chmod(outdir, 0o777)
    target = os.path.join(outdir, "ctx.tar")
    with open(target, "wb") as f:
        f.write(b"OLD")
    try:
        rc, _, _ = run(["--version"], preexec_fn=as_nobody)
    except (OSError, subprocess.SubprocessError) as e:
        rc = e
    if rc != 0:
        skip(name, "uid %d cannot run %s (%s)" % (NOBODY, CTXPACK, rc))
        return
    for builder in ("buildkit", "classic"):
        rc, out, err = run(["pack", "--builder=" + builder, "."], cwd=ctx, preexec_fn=as_nobody)
        check("%s: an unreadable file that would be sent: exit 1, names the path" % builder,
              rc == 1 and b"sub/secret.txt" in err, (rc, err))
        try:
            members, end = record.parse_tar(out)
        except ValueError as e:
            members, end = [], "unparsable: %s" % e
        check("%s: the broken-off stream does not end like a complete archive" % builder,
              not end.startswith("eof"), (end, [m["name"] for m in members]))
        rc, out, err = run(["pack", "--builder=" + builder, "-o", target, "."], cwd=ctx,
                           preexec_fn=as_nobody)
        check("%s: -o with an unreadable file: exit 1, target unchanged, no temp file" % builder,
              rc == 1 and b"sub/secret.txt" in err and open(target, "rb").read() == b"OLD"
              and leftovers(outdir) == [], (rc, err, os.listdir(outdir)))
        fresh = os.path.join(outdir, "fresh-%s.tar" % builder)
        rc, out, err = run(["pack", "--builder=" + builder, "-o", fresh, "."], cwd=ctx,
                           preexec_fn=as_nobody)
        check("%s: -o with an unreadable file: no file left at all" % builder,
              rc == 1 and not os.path.exists(fresh) and leftovers(outdir) == [],
              (rc, os.listdir(outdir)))
    with open(os.path.join(ctx, ".dockerignore"), "wb") as f:
        f.write(b"sub/secret.txt\n")
    os.chmod(os.path.join(ctx, ".dockerignore"), 0o644)
    rc, out, err = run(["pack", "."], cwd=ctx, preexec_fn=as_nobody)
    check("an unreadable file that is excluded does not matter",
          rc == 0 and "sub/secret.txt" not in tar_names(out), (rc, err))


# -- broken outputs -----------------------------------------------------------

def test_dev_full(ctx):
    if not os.path.exists("/dev/full"):
        skip("writing to /dev/full", "no /dev/full")
        return
    with open("/dev/full", "wb") as full:
        rc, _, err = run(["pack", "."], cwd=ctx, stdout=full)
    check("stdout is /dev/full: exit 1 with a no-space message",
          rc == 1 and b"no space" in err.lower(), (rc, err))


def test_broken_pipe(big):
    if shutil.which("head") is None:
        skip("a reader that closes early", "no head(1)")
        return
    for extra in ([], ["-j", "4"], ["--compress=gzip", "--level=1"]):
        p1 = subprocess.Popen([CTXPACK, "pack"] + extra + ["."], cwd=big,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
        p2 = subprocess.Popen(["head", "-c", "100"], stdin=p1.stdout, stdout=subprocess.PIPE)
        p1.stdout.close()
        out = p2.communicate(timeout=60)[0]
        err = p1.stderr.read()
        rc = p1.wait(timeout=60)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        check("pack %s| head -c 100: exit 1, one 'broken pipe' line" % " ".join(extra + [""]),
              rc == 1 and len(out) == 100 and len(lines) == 1 and b"broken pipe" in lines[0],
              (rc, len(out), err[:500]))


# -- signals ------------------------------------------------------------------

def wait_for_temp(outdir, proc, min_size=0, limit=5.0, settle=0.05):
    """Wait until -o's output file is open in the process (an unnamed
    O_TMPFILE shows in /proc/PID/fd as "OUTDIR/#N (deleted)"; a named
    temporary file shows by name) and has min_size bytes, then `settle`
    seconds more."""
    end = time.monotonic() + limit
    real = os.path.realpath(outdir)
    while time.monotonic() < end and proc.poll() is None:
        try:
            fds = os.listdir("/proc/%d/fd" % proc.pid)
        except OSError:
            fds = []
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (proc.pid, fd))
                if target.startswith(real + "/") and os.stat(
                        "/proc/%d/fd/%s" % (proc.pid, fd)).st_size >= min_size:
                    time.sleep(settle)
                    return target
            except OSError:
                pass
        time.sleep(0.005)
    return None


def test_signals(big):
    # (1) before any output: strace delivers the signal at the walk's
    # first getdents64, so before the output is opened (budgets are
    # checked before any output exists).  (A FIFO Dockerfile no longer
    # blocks: it is refused.)
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        name = ("%s while pack walks (strace sends it at getdents64): no output, killed by it"
                " (exit %d), nothing left" % (sig.name, code))
        if not shutil.which("strace"):
            skip(name, "strace not installed (it delivers the signal)")
            continue
        outdir = mkdtemp()
        env = clean_env()
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""),
                                                     "detect_leaks=0"]))
        p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=getdents64",
                            "-e", "inject=getdents64:signal=%s:when=1" % sig.name[3:], CTXPACK,
                            "pack", "-o", os.path.join(outdir, "x.tar"), "."], cwd=big,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
        if p.returncode != -sig and b"ptrace" in p.stderr:
            skip(name, "strace cannot trace here (%s)" % p.stderr.decode(errors="replace")[:80])
            continue
        # strace ends the way its tracee did.
        check(name, p.returncode == -sig and os.listdir(outdir) == [],
              (p.returncode, os.listdir(outdir), p.stderr[-500:]))
    # (2) while it writes a large compressed archive.
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        outdir = mkdtemp()
        t0 = time.monotonic()
        p = subprocess.Popen([CTXPACK, "pack", "--compress=zstd", "--level=19", "-o",
                              os.path.join(outdir, "x.tar.zst"), "."], cwd=big,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
        seen = wait_for_temp(outdir, p, min_size=1)
        p.send_signal(sig)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        check("%s while writing a large -o archive: killed by it (exit %d), no temp file"
              % (sig.name, code), seen and p.returncode == -sig and os.listdir(outdir) == [],
              (seen, p.returncode, os.listdir(outdir), round(time.monotonic() - t0, 2),
               p.stderr.read()))


# -- determinism and mtimes ---------------------------------------------------

def many_entries(n_dirs=48, per_dir=60):
    """A tree of n_dirs * (per_dir + ...) entries: files, symlinks, hard
    links across directories, empty directories, excluded and re-included
    paths."""
    d = mkdtemp()
    with open(os.path.join(d, "Dockerfile"), "wb") as f:
        f.write(b"FROM scratch\n")
    with open(os.path.join(d, ".dockerignore"), "wb") as f:
        f.write(b"d1*\n!d1*/keep*\n**/*.log\nd3/sub\n!d3/sub/x5\n")
    for i in range(n_dirs):
        dd = os.path.join(d, "d%d" % i)
        os.makedirs(os.path.join(dd, "sub", "deeper"))
        os.mkdir(os.path.join(dd, "empty"))
    for i in range(n_dirs):
        dd = os.path.join(d, "d%d" % i)
        for j in range(per_dir):
            name = ["f%d", "keep%d", "x%d.log", "sub/x%d", "sub/deeper/y%d"][j % 5] % j
            p = os.path.join(dd, name)
            with open(p, "wb") as f:
                f.write(b"%d %d\n" % (i, j) * (j % 7))
            if j % 9 == 0:
                os.symlink("../f0", p + ".lnk")
            if j % 11 == 0:
                os.link(p, os.path.join(d, "d%d" % ((i + 1) % n_dirs), "hl-%d-%d" % (i, j)))
    return d


def test_threads():
    d = many_entries()
    for builder in ("buildkit", "classic"):
        rc1, a1, e1 = run(["pack", "--builder=" + builder, "-j", "1", "."], cwd=d)
        rc4, a4, e4 = run(["pack", "--builder=" + builder, "-j", "4", "."], cwd=d)
        rc4b, a4b, _ = run(["pack", "--builder=" + builder, "-j", "4", "."], cwd=d)
        n = len(tar_names(a1)) if rc1 == 0 else 0
        check("%s: -j 1 and -j 4 write byte-identical archives (%d entries)" % (builder, n),
              rc1 == 0 and rc4 == 0 and n >= 2000 and a1 == a4 == a4b, (rc1, rc4, n, e1, e4))


def test_mtime():
    d = tree({"Dockerfile": b"FROM scratch\n", "old": b"o", "new": b"n", "dir/x": b"x"})
    times = {"old": 1000000000, "new": 2000000000, "dir/x": 1600000000, "dir": 1900000000,
             "Dockerfile": 1400000000}
    for p, t in times.items():
        os.utime(os.path.join(d, p), (t, t))
    os.symlink("old", os.path.join(d, "lnk"))
    os.utime(os.path.join(d, "lnk"), (1800000000, 1800000000), follow_symlinks=False)
    times["lnk"] = 1800000000
    for builder in ("buildkit", "classic"):
        rc, base, err = run(["pack", "--builder=" + builder, "."], cwd=d)
        got = {m["name"].rstrip("/"): m["mtime"] for m in record.parse_tar(base)[0]}
        check("%s: without a clamp mtimes are the files' own" % builder,
              all(got[k] == v for k, v in times.items()), got)
        for how, args, env in (("--mtime", ["--mtime", "1500000000"], None),
                               ("SOURCE_DATE_EPOCH", [], {"SOURCE_DATE_EPOCH": "1500000000"}),
                               ("--mtime over SOURCE_DATE_EPOCH", ["--mtime=1500000000"],
                                {"SOURCE_DATE_EPOCH": "1700000000"})):
            rc, out, err = run(["pack", "--builder=" + builder] + args + ["."], cwd=d, env=env)
            got = {m["name"].rstrip("/"): m["mtime"] for m in record.parse_tar(out)[0]}
            want = {k: min(v, 1500000000) for k, v in times.items()}
            check("%s: %s clamps mtimes (only the later ones)" % (builder, how),
                  rc == 0 and all(got.get(k) == v for k, v in want.items())
                  and max(got.values()) <= 1500000000, (rc, got, err))
    rc, out, err = run(["pack", "--mtime", "soon", "."], cwd=d)
    check("--mtime with a non-number: usage error", rc == 2 and b"--mtime" in err, (rc, err))


# -- compression --------------------------------------------------------------

def test_compression(ctx):
    rc, plain, _ = run(["pack", "."], cwd=ctx)
    rc, gz, err = run(["pack", "--compress=gzip", "."], cwd=ctx)
    try:
        ok = rc == 0 and gz[:2] == b"\x1f\x8b" and gzip.decompress(gz) == plain
    except OSError as e:
        ok, err = False, repr(e).encode()
    check("--compress=gzip decompresses to exactly the plain archive", ok, (rc, err))
    rc, gz9, err = run(["pack", "--compress=gzip", "--level=9", "."], cwd=ctx)
    check("--compress=gzip --level=9 decompresses to the plain archive",
          rc == 0 and gzip.decompress(gz9) == plain, (rc, err))
    rc, zs, err = run(["pack", "--compress=zstd", "."], cwd=ctx)
    check("--compress=zstd writes a zstd frame", rc == 0 and zs[:4] == b"\x28\xb5\x2f\xfd",
          (rc, zs[:8], err))
    if shutil.which("zstd") is None:
        skip("--compress=zstd decompresses to the plain archive", "zstd(1) not installed")
    else:
        for lv in ([], ["--level=19"]):
            rc, zs, err = run(["pack", "--compress=zstd"] + lv + ["."], cwd=ctx)
            p = subprocess.run(["zstd", "-dc"], input=zs, capture_output=True)
            check("--compress=zstd %sdecompresses (zstd -dc) to the plain archive"
                  % " ".join(lv + [""]), rc == 0 and p.returncode == 0 and p.stdout == plain,
                  (rc, p.returncode, p.stderr, err))
    rc, out, err = run(["pack", "--compress=xz", "."], cwd=ctx)
    check("--compress=xz: usage error", rc == 2 and b"--compress" in err, (rc, err))
    return plain


def test_docker_stdin(ctx):
    name = "docker build - accepts the archive"
    if fakeengine.docker_cli() is None:
        skip(name, "docker CLI not installed")
        return
    rc, plain, _ = run(["pack", "--builder=classic", "."], cwd=ctx)
    with fakeengine.FakeEngine() as eng:
        for comp in ("none", "gzip", "zstd"):
            rc, arc, err = run(["pack", "--builder=classic", "--compress=" + comp, "."], cwd=ctx)
            before = len(eng.captures)
            p = subprocess.run([fakeengine.docker_cli(), "build", "-"], input=arc,
                               env=eng.docker_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            eng.wait_idle()
            caps = eng.captures[before:]
            body = caps[-1].body if caps else None
            if body is not None and comp == "gzip":
                body = gzip.decompress(body)
            elif body is not None and comp == "zstd" and shutil.which("zstd"):
                body = subprocess.run(["zstd", "-dc"], input=body, capture_output=True).stdout
            check("docker build - (classic) takes the %s archive; the engine gets it whole"
                  % comp, rc == 0 and p.returncode == 0 and len(caps) == 1 and caps[0].complete
                  and caps[0].body == arc and body == plain,
                  (rc, p.returncode, p.stderr[-300:], len(caps)))


# -- a Dockerfile outside the context -----------------------------------------

DF_NAME = re.compile(rb"\.dockerfile\.[0-9a-f]{20}(?![0-9a-f])")


def test_outside_dockerfile():
    base = mkdtemp()
    ctx = tree({"a": b"a\n", "Dockerfile": b"FROM inside\n"}, root=os.path.join(base, "ctx"))
    ctx2 = tree({"b": b"b\n"}, b"b\n", root=os.path.join(base, "ctx2"))
    content = b"FROM scratch\nCOPY . /\n"
    tree({"Dockerfile": content, "copy/Other": content, "diff/Dockerfile": content + b"#\n"},
         root=os.path.join(base, "ext"))
    names = []
    for builder in ("buildkit", "classic"):
        rc, out, err = run(["pack", "--builder=" + builder, "-f", "../ext/Dockerfile", "."],
                           cwd=ctx)
        m = DF_NAME.search(err)
        members = record.parse_tar(out)[0] if rc == 0 else []
        layout = {}
        if rc == 0:
            _, _, lay = fuzz_docker.describe_tar(out)
            layout = {mm["name"]: out[l[2]:l[3]] for mm, l in zip(members, lay)}
        gen = m.group(0).decode() if m else None
        check("%s: stderr names .dockerfile.<20 hex>" % builder, rc == 0 and gen, (rc, err))
        check("%s: the last member is that name with the Dockerfile's bytes" % builder,
              gen and members and members[-1]["name"] == gen and layout.get(gen) == content,
              ([mm["name"] for mm in members], gen))
        ign = layout.get(".dockerignore", b"")
        check("%s: .dockerignore in the archive lists the name" % builder,
              gen and gen.encode() in ign.split(b"\n"), ign)
        names.append(gen)
        rc, out2, err2 = run(["pack", "--builder=" + builder, "-f", "../ext/Dockerfile", "."],
                             cwd=ctx)
        check("%s: the same Dockerfile gives the same archive twice" % builder,
              rc == 0 and out2 == out and DF_NAME.search(err2).group(0).decode() == gen, err2)
        rc, out3, err3 = run(["pack", "--builder=" + builder, "-f", "../ext/copy/Other", "."],
                             cwd=ctx)
        m3 = DF_NAME.search(err3)
        check("%s: the same content elsewhere gives the same name" % builder,
              rc == 0 and m3 and m3.group(0).decode() == gen, err3)
        rc, out4, err4 = run(["pack", "--builder=" + builder, "-f", "../ext/diff/Dockerfile",
                              "."], cwd=ctx)
        m4 = DF_NAME.search(err4)
        check("%s: other content gives another name" % builder,
              rc == 0 and m4 and m4.group(0).decode() != gen, err4)
        rc, out5, err5 = run(["pack", "--builder=" + builder, "-f", "../ext/Dockerfile", "."],
                             cwd=ctx2)
        mem5 = record.parse_tar(out5)[0] if rc == 0 else []
        ign5 = b""
        if rc == 0:
            _, _, lay5 = fuzz_docker.describe_tar(out5)
            ign5 = {mm["name"]: out5[l[2]:l[3]] for mm, l in zip(mem5, lay5)}.get(
                ".dockerignore", b"")
        m5 = DF_NAME.search(err5)
        check("%s: with its own .dockerignore: the name is appended to it" % builder,
              rc == 0 and m5 and m5.group(0).decode() == gen
              and ign5.startswith(b"b\n") and gen.encode() in ign5.split(b"\n"), (err5, ign5))
    check("both builders use the same generated name", names[0] == names[1], names)
    for builder in ("buildkit", "classic"):
        rc, out, err = run(["pack", "--builder=" + builder, "-f", "../ext/Dockerfile", "."],
                           cwd=ctx)
        rc2, ls, err2 = run(["ls", "--builder=" + builder, "-z", "-f", "../ext/Dockerfile", "."],
                            cwd=ctx)
        check("%s: ls -f OUTSIDE lists what pack sends (.dockerignore, .dockerfile.<hex>)"
              % builder, rc == 0 and rc2 == 0
              and ls.split(b"\0")[:-1] == [record.b(n) for n in tar_names(out)],
              (ls, tar_names(out), err2))


# -- extreme names ------------------------------------------------------------

def build_names_tree():
    d = os.fsencode(mkdtemp())
    made = []

    def f(rel, content=b"x"):
        with open(os.path.join(d, rel), "wb") as fh:
            fh.write(content)
        made.append(rel)
    f(b"Dockerfile", b"FROM scratch\n")
    f(b"n" * 255)
    f(("\u00e4" * 127 + "z").encode())                  # 255 bytes of UTF-8
    f(b"new\nline")
    f(b"\nstarts")
    f(b"bad\xff\xfename")
    f(b"\xc3(")
    os.mkdir(os.path.join(d, b"L" * 255))
    made.append(b"L" * 255)
    f(b"L" * 255 + b"/" + b"m" * 255)
    f(b"L" * 255 + b"/tab\there")
    os.symlink(b"t" * 200 + b"\xff", os.path.join(d, b"longlink"))
    made.append(b"longlink")
    # A path over 4096 bytes, built through directory descriptors.
    comp = b"d" * 200
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    rel = b""
    for i in range(21):
        os.mkdir(comp, dir_fd=fd)
        rel = rel + b"/" + comp if rel else comp
        made.append(rel)
        nfd = os.open(comp, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    leaf = b"leaf\xff\n" + b"e" * 100
    wfd = os.open(leaf, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(wfd, b"deep")
    os.close(wfd)
    os.close(fd)
    deep = rel + b"/" + leaf
    made.append(deep)
    return os.fsdecode(d), made, deep


def test_names():
    d, made, deep = build_names_tree()
    want = sorted(record.s(p) for p in made)
    for builder in ("buildkit", "classic"):
        rc, out, err = run(["pack", "--builder=" + builder, "."], cwd=d)
        try:
            tf = tarfile.open(fileobj=io.BytesIO(out), mode="r:", encoding="utf-8",
                              errors="surrogateescape")
            got = sorted(ti.name for ti in tf.getmembers())
            deep_data = tf.extractfile(record.s(deep)).read()
            lnk = tf.getmember("longlink").linkname
        except Exception as e:  # noqa: BLE001
            got, deep_data, lnk, err = [], None, None, repr(e).encode() + err
        check("%s: 255-byte, newline, non-UTF-8 names and a %d-byte path read back exactly"
              % (builder, len(deep)), rc == 0 and got == want and deep_data == b"deep"
              and lnk == record.s(b"t" * 200 + b"\xff"),
              (rc, err, sorted(set(got) ^ set(want))[:6]))
        check("%s: the archive of extreme names ends with two zero blocks" % builder,
              rc == 0 and record.parse_tar(out)[1] == "eof", rc)
        test_ls(d, builder, out, "extreme names")
    return d


def test_ls(d, builder, archive, what):
    names = [record.b(n) for n in tar_names(archive)]
    rc, out, err = run(["ls", "--builder=" + builder, "-z", "."], cwd=d)
    got = out.split(b"\0")
    check("%s, %s: ls -z lists the archive's member names in order" % (builder, what),
          rc == 0 and got[-1] == b"" and got[:-1] == names,
          (rc, err, [(a, b) for a, b in zip(got, names) if a != b][:3], len(got) - 1,
           len(names)))
    rc, out, err = run(["ls", "--builder=" + builder, "--json", "."], cwd=d)
    try:
        doc = json.loads(out)
        paths = [record.b(e["path"]) + (b"/" if e["type"] == "d" else b"")
                 for e in doc["entries"]]
        ok = rc == 0 and doc["version"] == 1 and paths == names
    except Exception as e:  # noqa: BLE001
        ok, paths, err = False, [], repr(e).encode() + err
    check("%s, %s: ls --json parses and lists the same names" % (builder, what), ok,
          (rc, err[:300], [(a, b) for a, b in zip(paths, names) if a != b][:3]))


def main():
    ctx = tree({"Dockerfile": b"FROM scratch\n", "src/a.js": b"console.log(1)\n",
                "build/out": b"o", "build/keep/x": b"k", "node_modules/m/i.js": b"",
                "data.bin": bytes(range(256)) * 40},
               b"node_modules\nbuild\n!build/keep\n")
    big = tree({"Dockerfile": b"FROM scratch\n"})
    with open(os.path.join(big, "random.bin"), "wb") as f:
        f.write(os.urandom(8 << 20))
    for i in range(50):
        with open(os.path.join(big, "f%02d" % i), "wb") as f:
            f.write(b"%d\n" % i * 1000)

    test_terminal(ctx)
    test_output_file(ctx)
    test_output_todo(ctx)
    test_unreadable()
    test_dev_full(ctx)
    test_broken_pipe(big)
    test_signals(big)
    test_threads()
    test_mtime()
    test_compression(ctx)
    test_docker_stdin(ctx)
    test_outside_dockerfile()
    test_names()
    for builder in ("buildkit", "classic"):
        rc, out, err = run(["pack", "--builder=" + builder, "."], cwd=ctx)
        test_ls(ctx, builder, out, "a small context with .dockerignore")
    d = many_entries(10, 30)
    for builder in ("buildkit", "classic"):
        rc, out, err = run(["pack", "--builder=" + builder, "."], cwd=d)
        test_ls(d, builder, out, "hard links, symlinks and exceptions")

    return tap.finish(800)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Faults the program meets from outside, end to end (what
tests/cli/test_pack.py does not already cover; tests/README.md has the
whole table):

  - ENOSPC: `pack -o` onto a genuinely full file system (a 256 KiB tmpfs,
    mounted here; needs root), with and without compression and over an
    existing target, stdout redirected onto it, and `digest` whose hash
    cache cannot be saved there;
  - EPIPE: a reader that is gone before the first byte (plain and zstd);
  - ENOMEM: zstd's compressor out of memory (RLIMIT_AS swept): the stream
    is cut, never a complete frame;
  - SIGINT and SIGTERM while `pack` writes into a pipe; while `pack -o`
    writes through the named temporary file used where O_TMPFILE is not
    supported (forced with strace's fault injection); `digest` killed
    before its cache is saved, and while it saves it (strace again): the
    temporary cache file that leaves is ignored by the next run.

Checks that need root, mount(2) or strace skip visibly.  TAP output.

usage: test_cli_faults.py PATH_TO_CTXPACK"""
import fcntl
import os
import random
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import tap  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
ENV = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}


def run(args, stdout=subprocess.PIPE, env=None, cwd=None):
    p = subprocess.run([CTXPACK] + args, stdout=stdout, stderr=subprocess.PIPE,
                       env=env or ENV, cwd=cwd, timeout=120)
    return p.returncode, p.stdout, p.stderr


def lines(err):
    return [ln for ln in err.splitlines() if ln.strip()]


def one_line(err, *words):
    """Exactly one message line, holding every word."""
    ls = lines(err)
    return len(ls) == 1 and all(w.encode() in ls[0] for w in words)


def small_tree():
    rnd = random.Random(1128)
    files = {"Dockerfile": b"FROM scratch\n", "big.bin": rnd.randbytes(1 << 20)}
    for i in range(20):
        files["src/f%02d.txt" % i] = b"%d\n" % i * 100
    return tap.tree(files, b"*.log\n", prefix="ctxpack-cfault-")


def big_tree():
    rnd = random.Random(2811)
    files = {"Dockerfile": b"FROM scratch\n", "random.bin": rnd.randbytes(8 << 20)}
    for i in range(50):
        files["f%02d" % i] = b"%d\n" % i * 1000
    return tap.tree(files, prefix="ctxpack-cfault-big-")


# -- ENOSPC: a full file system ----------------------------------------------

def test_full_fs(ctx):
    names = ["-o onto a full tmpfs: exit 1, one 'No space left on device' line, nothing left",
             "-o over an existing target on a full tmpfs: the target unchanged, nothing else left",
             "-o --compress=gzip onto a full tmpfs: exit 1, nothing left",
             "stdout redirected onto a full tmpfs: exit 1, the file is a cut prefix of the archive",
             "digest with its cache on a full tmpfs: the digest stands (exit 0), one warning,"
             " no temporary cache file left",
             "--manifest over a file on a full tmpfs: exit 1, one 'No space left on device' line"
             " naming it; it keeps its bytes, -o elsewhere is not written, nothing left",
             "--stats=FILE over a file on a full tmpfs: exit 1, one 'No space left on device'"
             " line naming it; it keeps its bytes, -o elsewhere is not written, nothing left",
             "stats --html over a page on a full tmpfs: exit 1, the page unchanged, nothing left"]
    if os.geteuid() != 0:
        for n in names:
            tap.skip(n, "needs root to mount a tmpfs")
        return
    mnt = tap.mkdtemp("ctxpack-cfault-mnt-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", mnt],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        for n in names:
            tap.skip(n, "mount -t tmpfs is not permitted here (%s)"
                     % p.stdout.decode(errors="replace").strip()[:80])
        return
    try:
        rc, full, err = run(["pack", ctx])
        target = os.path.join(mnt, "ctx.tar")
        rc, out, err = run(["pack", "-o", target, ctx])
        tap.check(names[0], rc == 1 and one_line(err, "No space left on device")
                  and os.listdir(mnt) == [], (rc, err, os.listdir(mnt)))

        old = os.path.join(mnt, "old.tar")
        with open(old, "wb") as f:
            f.write(b"OLD")
        rc, out, err = run(["pack", "-o", old, ctx])
        tap.check(names[1], rc == 1 and one_line(err, "No space left on device")
                  and open(old, "rb").read() == b"OLD" and os.listdir(mnt) == ["old.tar"],
                  (rc, err, os.listdir(mnt)))
        os.unlink(old)

        rc, out, err = run(["pack", "--compress=gzip", "-o", os.path.join(mnt, "x.tgz"), ctx])
        tap.check(names[2], rc == 1 and one_line(err, "No space left on device")
                  and os.listdir(mnt) == [], (rc, err, os.listdir(mnt)))

        cut = os.path.join(mnt, "stdout.tar")
        with open(cut, "wb") as f:
            rc, out, err = run(["pack", ctx], stdout=f)
        data = open(cut, "rb").read()
        tap.check(names[3], rc == 1 and one_line(err, "No space left on device")
                  and 0 < len(data) < len(full) and full.startswith(data)
                  and not tap.tar_end(data).startswith("eof"),
                  (rc, err, len(data), len(full), tap.tar_end(data)))
        os.unlink(cut)

        # The cache directory and the old outputs exist; the file system is
        # then filled up.
        cache = os.path.join(mnt, "cache")
        os.makedirs(os.path.join(cache, "ctxpack"))
        kept = [os.path.join(mnt, n) for n in ("m.tsv", "s.json", "p.html")]
        for path in kept:
            with open(path, "wb") as f:
                f.write(b"OLD")
        try:
            with open(os.path.join(mnt, "filler"), "wb") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        except OSError:
            pass
        env = dict(ENV, XDG_CACHE_HOME=cache)
        rc, out, err = run(["digest", ctx], env=env)
        rc2, out2, _ = run(["digest", "--no-cache", ctx])
        left = os.listdir(os.path.join(cache, "ctxpack"))
        tap.check(names[4], rc == 0 and out == out2 and rc2 == 0
                  and one_line(err, "warning", "not saved", "No space left on device")
                  and left == [], (rc, out, out2, err, left))

        elsewhere = os.path.join(tap.mkdtemp("ctxpack-cfault-out-"), "x.tar")
        for name, opt, path in ((names[5], ["--manifest", kept[0]], kept[0]),
                                (names[6], ["--stats=" + kept[1]], kept[1])):
            rc, out, err = run(["pack", "-o", elsewhere] + opt + [ctx])
            olds = [open(p, "rb").read() for p in kept]
            tap.check(name, rc == 1 and one_line(err, "No space left on device", path)
                      and olds == [b"OLD"] * 3 and not os.path.exists(elsewhere)
                      and not [n for n in os.listdir(mnt) if ".ctxpack-" in n],
                      (rc, err, olds, os.listdir(mnt)))
        rc, out, err = run(["stats", "--html", kept[2], ctx])
        tap.check(names[7], rc == 1 and one_line(err, "No space left on device")
                  and open(kept[2], "rb").read() == b"OLD"
                  and not [n for n in os.listdir(mnt) if ".ctxpack-" in n],
                  (rc, err, os.listdir(mnt)))
    finally:
        if subprocess.run(["umount", mnt]).returncode != 0:
            subprocess.run(["umount", "-l", mnt])


# -- EPIPE: the reader is gone ------------------------------------------------

def test_reader_gone(ctx):
    for extra in ([], ["--compress=zstd"]):
        r, w = os.pipe()
        os.close(r)
        try:
            rc, _, err = run(["pack"] + extra + [ctx], stdout=w)
        finally:
            os.close(w)
        tap.check("pack %s into a pipe whose reader is already gone: exit 1, one"
                  " 'broken pipe' line" % " ".join(extra + ["DIR"]),
                  rc == 1 and one_line(err, "broken pipe"), (rc, err))


def sanitized():
    """An ASan or TSan build reserves terabytes of address space: it cannot
    run under RLIMIT_AS."""
    with open(CTXPACK, "rb") as f:
        data = f.read()
    return b"__asan_init" in data or b"__tsan_init" in data


def test_zstd_memory(big):
    """A zstd stream whose compressor ran out of memory once ended as a
    complete, valid, empty frame (libarchive closes the filter when it is
    freed): a failed run must leave a stream that does not decode as
    complete.  The address-space limit is swept so that the failure falls
    in the compressor's allocations (its workers, level 19's tables)."""
    name = "pack --compress=zstd out of memory (RLIMIT_AS swept): every failed run " \
        "leaves a stream zstd -t rejects, every run that succeeds one it accepts"
    zstd = shutil.which("zstd")
    if not zstd:
        tap.skip(name, "zstd(1) not installed")
        return
    if sanitized():
        tap.skip(name, "a sanitizer build cannot run under RLIMIT_AS")
        return
    import resource
    bad, fails, oks = [], 0, 0
    for mib in range(40, 720, 60):
        def limit(mib=mib):
            resource.setrlimit(resource.RLIMIT_AS, (mib << 20, mib << 20))
        p = subprocess.run([CTXPACK, "pack", "--compress=zstd", "--level", "19", "-j", "2",
                            big], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                           preexec_fn=limit, timeout=120)
        if p.returncode == 127:
            continue  # the loader could not map the program
        t = subprocess.run([zstd, "-t", "-q"], input=p.stdout, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        whole = t.returncode == 0
        if p.returncode == 0:
            oks += 1
            if not whole:
                bad.append((mib, "exit 0, stream rejected"))
        else:
            fails += 1
            if whole or p.returncode != 1 or not lines(p.stderr):
                bad.append((mib, p.returncode, len(p.stdout), p.stderr[-200:]))
    tap.check(name, not bad and fails > 0 and oks > 0, (bad, fails, oks))


# -- signals ------------------------------------------------------------------

def test_signal_pipe(big):
    """pack blocks on a full pipe nobody reads: the signal finds it mid-stream."""
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        p = subprocess.Popen([CTXPACK, "pack", big], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=ENV)
        head = p.stdout.read(65536)
        time.sleep(0.2)       # pack fills the pipe and blocks (no assertion on time)
        p.send_signal(sig)
        rest = p.stdout.read()
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        data = head + rest
        tap.check("%s while pack writes into a pipe: killed by it (a shell says %d), the reader"
                  " gets a stream without the end-of-archive blocks" % (sig.name, code),
                  p.returncode == -sig and len(head) == 65536
                  and not tap.tar_end(data).startswith("eof"),
                  (p.returncode, len(data), tap.tar_end(data), p.stderr.read()))


def strace_cmd(outdir):
    """ctxpack under strace, with the O_TMPFILE open of outdir failing
    (EOPNOTSUPP, as on a file system without O_TMPFILE)."""
    return ["strace", "-f", "-qq", "-o", "/dev/null", "-P", outdir, "-e", "trace=open,openat",
            "-e", "inject=open,openat:error=EOPNOTSUPP:when=1", CTXPACK]


def test_signal_named_tmp(ctx, big):
    names = ["-o through the named temporary file (no O_TMPFILE): exit 0, the archive, no"
             " temporary file left"]
    names += ["%s while -o writes through the named temporary file: killed by it, the"
              " temporary file removed" % s.name for s in (signal.SIGINT, signal.SIGTERM)]
    if not shutil.which("strace"):
        for n in names:
            tap.skip(n, "strace not installed (it forces the fallback from O_TMPFILE)")
        return
    outdir = tap.mkdtemp("ctxpack-cfault-out-")
    rc, full, _ = run(["pack", ctx])
    target = os.path.join(outdir, "x.tar")
    p = subprocess.run(strace_cmd(outdir) + ["pack", "-o", target, ctx], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=tap.under_strace(ENV), timeout=120)
    ok = p.returncode == 0 and os.listdir(outdir) == ["x.tar"] and open(target, "rb").read() == full
    if p.returncode != 0 and b"ptrace" in p.stderr:
        for n in names:
            tap.skip(n, "strace cannot trace here (%s)" % p.stderr.decode(errors="replace")[:80])
        return
    tap.check(names[0], ok, (p.returncode, p.stderr[-500:], os.listdir(outdir)))
    os.unlink(target)
    for sig, name in zip((signal.SIGINT, signal.SIGTERM), names[1:]):
        s = subprocess.Popen(strace_cmd(outdir) + ["pack", "--compress=zstd", "--level=19", "-o",
                                                   os.path.join(outdir, "y.tar.zst"), big],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=tap.under_strace(ENV))
        seen, child = None, None
        end = time.monotonic() + 30
        while time.monotonic() < end and s.poll() is None and not (seen and child):
            child = tap.child_running(s.pid, CTXPACK)
            seen = [n for n in os.listdir(outdir) if ".ctxpack-" in n]
            time.sleep(0.01)
        if seen and child:
            try:
                os.kill(child, sig)
            except ProcessLookupError:
                child = "gone before the signal"
        try:
            s.wait(timeout=30)
        except subprocess.TimeoutExpired:
            s.kill()
            s.wait()
        # strace ends the way its tracee did.
        tap.check(name, bool(seen) and s.returncode == -sig and os.listdir(outdir) == [],
                  (seen, child, s.returncode, os.listdir(outdir), s.stderr.read()[-500:]))


def test_digest_signals(ctx):
    cache = tap.mkdtemp("ctxpack-cfault-cache-")
    cdir = os.path.join(cache, "ctxpack")
    env = dict(ENV, XDG_CACHE_HOME=cache)
    rc, want, _ = run(["digest", "--no-cache", ctx])

    # Killed before the save: strace delivers the signal at the walk's
    # first getdents64.  (A FIFO Dockerfile no longer blocks: it is refused.)
    for sig in (signal.SIGINT, signal.SIGTERM):
        name = ("%s while digest walks (strace sends it at getdents64): killed by it, nothing"
                " in the cache directory" % sig.name)
        if not shutil.which("strace"):
            tap.skip(name, "strace not installed (it delivers the signal)")
            continue
        p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=getdents64",
                            "-e", "inject=getdents64:signal=%s:when=1" % sig.name[3:], CTXPACK,
                            "digest", ctx], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=tap.under_strace(env), timeout=60)
        if p.returncode != -sig and b"ptrace" in p.stderr:
            tap.skip(name, "strace cannot trace here (%s)" % p.stderr.decode(errors="replace")[:80])
            continue
        left = os.listdir(cdir) if os.path.isdir(cdir) else []
        tap.check(name, p.returncode == -sig and left == [], (p.returncode, left, p.stderr))

    # Killed in the save, between writing the temporary file and renaming it.
    name = ("SIGINT in digest's cache save: killed by it, the temporary cache file stays;"
            " the next save removes it (unlocked, older than 2 s) and keeps a live one and"
            " names mkostemp does not make")
    if not shutil.which("strace"):
        tap.skip(name, "strace not installed (it delivers the signal at rename(2))")
        return
    rc, first, _ = run(["digest", ctx], env=env)        # a cache to keep
    before = open(os.path.join(cdir, "hashes"), "rb").read()
    os.utime(os.path.join(ctx, "Dockerfile"), (1_600_000_000, 1_600_000_000))  # a new entry
    p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                        "trace=rename,renameat,renameat2", "-e",
                        "inject=rename,renameat,renameat2:error=EIO:signal=INT", CTXPACK,
                        "digest", ctx], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=tap.under_strace(env),
                       timeout=120)
    if p.returncode != -signal.SIGINT and b"ptrace" in p.stderr:
        tap.skip(name, "strace cannot trace here (%s)" % p.stderr.decode(errors="replace")[:80])
        return
    stale = [n for n in os.listdir(cdir) if n.startswith(".hashes.tmp")]
    kept = open(os.path.join(cdir, "hashes"), "rb").read() == before
    old = time.time() - 3600
    for n in stale:                       # as if the kill was an hour ago
        os.utime(os.path.join(cdir, n), (old, old))
    # A save in progress in another process: locked, as old, must stay.
    live = os.path.join(cdir, ".hashes.tmpLIVE01")
    # Not a name mkostemp makes: never touched, however old and unlocked.
    other = os.path.join(cdir, ".hashes.tmpLIVE01.keep")
    open(other, "wb").close()
    os.utime(other, (old, old))
    with open(live, "wb") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        os.utime(live, (old, old))
        os.utime(os.path.join(ctx, "Dockerfile"), (1_600_000_100, 1_600_000_100))
        rc, again, err = run(["digest", ctx], env=env)
        after = sorted(os.listdir(cdir))
    os.unlink(live)
    os.unlink(other)
    saved = open(os.path.join(cdir, "hashes"), "rb").read()
    tap.check(name, p.returncode == -signal.SIGINT and len(stale) == 1 and kept
              and rc == 0 and not err and again == first == want
              and after == sorted(["hashes", ".hashes.tmpLIVE01", ".hashes.tmpLIVE01.keep"])
              and saved != before,
              (p.returncode, stale, kept, rc, again, want, after, err))


def main():
    ctx = small_tree()
    big = big_tree()
    test_full_fs(ctx)
    test_reader_gone(big)
    test_zstd_memory(big)
    test_signal_pipe(big)
    test_signal_named_tmp(ctx, big)
    test_digest_signals(ctx)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

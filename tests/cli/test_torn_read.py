#!/usr/bin/env python3
"""test_torn_read.py: files rewritten in place while they are read (TAP).

usage: test_torn_read.py CTXPACK

A 64 MiB file is overwritten in place (same size, other bytes: opened
O_WRONLY without truncation, written, closed) while ctxpack reads it.
Its size and inode never change, so a reader that only checks those
sends a member that is A..., then B..., then A... (bytes the file never
held) with exit 0.  Every reader must see its times move after the last
byte: exit 1, a message naming the file and saying what changed, and an
output that does not read as a complete tar (with -o: nothing left).

  * pack into a pipe the test reads slowly: 10 MiB, then the rewrite,
    then the rest; the archiver is held by the full pipe, so where the
    rewrite lands is deterministic (both builders, -j 1; gzip once);
  * pack --compress=gzip --level=1 -o FILE: the rewrite once the archiver's
    descriptor of the file is 10 MiB in (/proc/PID/fdinfo; gzip paces
    the reading: the remaining 54 MiB take a good part of a second);
  * pack -f with the Dockerfile outside the context: the .dockerignore
    it rewrites (the Dockerfile's name appended) is read like any file;
  * digest: under strace, the second read(2) of the file waits 1 s
    while its times are changed (utime: only the times; chmod: only the
    ctime): the message says which (skipped visibly without strace).
"""
import io
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import zlib

import tap  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
ENV = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
ENV["XDG_CACHE_HOME"] = tap.mkdtemp("ctxpack-torn-cache-")
SIZE = 64 << 20
HEAD = 10 << 20
OLD = 1000000000     # the file's times: long past, so any write moves them
A = os.urandom(SIZE)  # random: gzip cannot shrink it, so the output paces the reading
B = bytes(b ^ 0xFF for b in A[:1 << 20]) * (SIZE >> 20)


def tree():
    d = tap.tree({"Dockerfile": b"FROM scratch\nCOPY . /\n", "zz-after.txt": b"after\n"})
    path = os.path.join(d, "big.bin")
    with open(path, "wb") as f:
        f.write(A)
    os.utime(path, (OLD, OLD))
    return d, path


def rewrite(path):
    """Other bytes, same size, same inode: O_WRONLY, no O_TRUNC."""
    fd = os.open(path, os.O_WRONLY)
    try:
        view = memoryview(B)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def tar_of(out, gzip):
    """The tar stream and how it ends (tap.read_tar: "eof" is complete)."""
    if gzip:
        d = zlib.decompressobj(wbits=31)
        try:
            out = d.decompress(out)
        except zlib.error:
            out = b""
    members, end = tap.read_tar(out)
    if end.startswith("eof"):  # a complete stream: the members' contents too
        with tarfile.open(fileobj=io.BytesIO(out)) as t:
            data = {i.name: t.extractfile(i).read() for i in t if i.isfile()}
        for m in members:
            m["data"] = data.get(m["name"])
    return members, end


def says_changed(err):
    return (err.count(b"\n") == 1 and
            b"ctxpack: 'big.bin' changed while it was read (modified: mtime" in err)


def read_n(f, n):
    got = []
    while n > 0:
        b = f.read(min(n, 1 << 20))
        if not b:
            break
        got.append(b)
        n -= len(b)
    return b"".join(got)


def held_pack(d, args, mutate):
    """pack ARGS . in d into a pipe: 10 MiB read, mutate(), the rest read.
    Returns (held, head, rc, stderr, members, end); held: pack was still
    running when mutate() ran (blocked on the full pipe)."""
    p = subprocess.Popen([CTXPACK, "pack"] + args + ["."], cwd=d, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=ENV)
    timer = threading.Timer(120, p.kill)
    timer.start()
    head = read_n(p.stdout, HEAD)
    time.sleep(0.1)
    held = p.poll() is None
    mutate()
    rest = p.stdout.read()
    err = p.stderr.read()
    rc = p.wait()
    timer.cancel()
    members, end = tar_of(head + rest, "--compress=gzip" in args)
    return held, len(head), rc, err, members, end


def test_pipe(builder, extra):
    """pack into a pipe: 10 MiB read, the file rewritten, the rest read
    (the archiver blocked on the full pipe, far from the file's end)."""
    d, path = tree()
    held, head, rc, err, members, end = held_pack(d, ["--builder=" + builder] + extra,
                                                  lambda: rewrite(path))
    tap.check("pack %s (%s) into a pipe, the 64 MiB file rewritten in place after 10 MiB: "
              "exit 1, 'big.bin' changed while it was read, the stream not a complete tar"
              % (" ".join(extra) or "(defaults)", builder),
              held and head == HEAD and rc == 1 and says_changed(err)
              and not end.startswith("eof"),
              (held, head, rc, err, end, [m["name"] for m in members]))


def test_ignore_file(builder):
    """The .dockerignore pack rewrites (a Dockerfile outside the context:
    its name is appended) changes after the walk, while the archiver is
    held on the pipe inside a member before it: the member is made from
    the bytes the rules came from, never read a second time."""
    d = tap.tree({"-big.bin": A, "a.txt": b"a\n"}, b"*.tmp\n")
    outside = tap.tree({"Dockerfile": b"FROM scratch\n"})

    def grow():
        with open(os.path.join(d, ".dockerignore"), "ab") as f:
            f.write(b"# more\n")
    held, head, rc, err, members, end = held_pack(
        d, ["--builder=" + builder, "-f", os.path.join(outside, "Dockerfile")], grow)
    ign = [m.get("data") for m in members if m["name"] == ".dockerignore"]
    tap.check("pack -f outside (%s): .dockerignore, which pack rewrites, grew after the walk: "
              "exit 0, the archive's copy is the bytes the rules were read from (read once)"
              % builder,
              held and rc == 0 and end.startswith("eof") and len(ign) == 1 and ign[0]
              and ign[0].startswith(b"*.tmp\n\n.dockerfile.") and b"# more" not in ign[0],
              (held, rc, err, end, ign))


def fd_pos(pid, path):
    """Where pid's descriptor of path stands, or None while it has none."""
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return None
    for fd in fds:
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != path:
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                for line in f:
                    if line.startswith("pos:"):
                        return int(line.split()[1])
        except OSError:
            pass
    return None


def test_output_file(builder):
    """pack --compress=gzip -o FILE: rewritten once 10 MiB are read."""
    d, path = tree()
    outdir = tap.mkdtemp("ctxpack-torn-out-")
    target = os.path.join(outdir, "ctx.tar.gz")
    p = subprocess.Popen([CTXPACK, "pack", "--builder=" + builder, "--compress=gzip",
                          "--level=1", "-o", target, "."], cwd=d, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=ENV)
    deadline = time.monotonic() + 60
    pos = None
    while time.monotonic() < deadline and p.poll() is None:
        pos = fd_pos(p.pid, path)
        if pos is not None and pos >= HEAD:
            break
        time.sleep(0.001)
    # gzip has most of the 64 MiB still to compress: the reading is far from the end
    mid = pos is not None and HEAD <= pos < SIZE - (16 << 20) and p.poll() is None
    rewrite(path)
    out, err = p.communicate(timeout=120)
    tap.check("pack --compress=gzip --level=1 -o FILE (%s), the file rewritten in place after 10 MiB: "
              "exit 1, 'big.bin' changed while it was read, nothing left in the directory"
              % builder, mid and p.returncode == 1 and says_changed(err)
              and os.listdir(outdir) == [], (pos, p.returncode, err, os.listdir(outdir)))


def test_digest(label, mutate, want):
    """digest: the file's times change while it is hashed."""
    name = "digest, %s while the file is read: exit 1, %s" % (label, want)
    if not shutil.which("strace"):
        tap.skip(name, "strace not installed (it holds the second read of the file)")
        return
    d, path = tree()
    p = subprocess.Popen(["strace", "-f", "-qq", "-o", "/dev/null", "-P", path,
                          "-e", "trace=read", "-e", "inject=read:delay_enter=1000000:when=2",
                          CTXPACK, "digest", "--no-cache", "-j", "1", "."], cwd=d,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=tap.under_strace(ENV))
    deadline = time.monotonic() + 60
    pos = None
    while time.monotonic() < deadline and p.poll() is None:
        pid = tap.child_running(p.pid, CTXPACK)
        pos = fd_pos(pid, path) if pid else None
        if pos:
            break
        time.sleep(0.001)
    mutate(path)
    out, err = p.communicate(timeout=120)
    if pos is None and b"ptrace" in err:
        tap.skip(name, "strace cannot trace here (%s)" % err.decode(errors="replace")[:80])
        return
    tap.check(name, pos and p.returncode == 1 and err.count(b"\n") == 1 and
              b"ctxpack: 'big.bin' changed while it was read (%s)" % want.encode() in err
              and b"walked: " not in err, (pos, p.returncode, err))


def main():
    for builder in ("buildkit", "classic"):
        test_pipe(builder, [])
        test_pipe(builder, ["-j", "1"])
    # the builder does not change how a file is read: gzip (seconds) once each
    test_pipe("buildkit", ["--compress=gzip", "--level=1"])
    test_output_file("classic")
    for builder in ("buildkit", "classic"):
        test_ignore_file(builder)
    test_digest("only its times set (utime)", lambda p: os.utime(p, (OLD + 5, OLD + 5)),
                "modified: mtime and ctime moved")
    test_digest("only its mode changed (chmod)", lambda p: os.chmod(p, 0o600),
                "only its ctime moved: mode, owner or links changed")
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

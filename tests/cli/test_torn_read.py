#!/usr/bin/env python3
"""test_torn_read.py: files rewritten in place while they are read (TAP).

usage: test_torn_read.py CTXPACK

A 64 MiB file changes while ctxpack reads it, its size and inode the
same: every reader must see its times move after the last byte: exit 1
and a message naming the file and saying what changed.

  * digest: under strace, the second read(2) of the file waits 1 s
    while its times are changed (utime: only the times; chmod: only the
    ctime): the message says which (skipped visibly without strace).
"""
import os
import shutil
import subprocess
import sys
import time

import tap

CTXPACK = os.path.abspath(sys.argv[1])
ENV = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
ENV["XDG_CACHE_HOME"] = tap.mkdtemp("ctxpack-torn-cache-")
SIZE = 64 << 20
OLD = 1000000000     # the file's times: long past, so any write moves them
A = os.urandom(SIZE)


def tree():
    d = tap.tree({"Dockerfile": b"FROM scratch\nCOPY . /\n", "zz-after.txt": b"after\n"})
    path = os.path.join(d, "big.bin")
    with open(path, "wb") as f:
        f.write(A)
    os.utime(path, (OLD, OLD))
    return d, path


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
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
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
    test_digest("only its times set (utime)", lambda p: os.utime(p, (OLD + 5, OLD + 5)),
                "modified: mtime and ctime moved")
    test_digest("only its mode changed (chmod)", lambda p: os.chmod(p, 0o600),
                "only its ctime moved: mode, owner or links changed")
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

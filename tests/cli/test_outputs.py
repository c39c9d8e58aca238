#!/usr/bin/env python3
"""Every file ctxpack writes by name goes through one writer
(src/cli/outfile.c): `pack -o`, `pack --manifest`, `pack --stats=FILE`,
`stats --html`.  Checked end to end: symlinks are written through (the
target replaced atomically, the link kept), descriptor links
(/proc/self/fd/N and a symlink to it, as /dev/stdout is) write into the
open file itself (a file, an O_APPEND file, a pipe, a socket), FIFOs and
devices directly; an existing file keeps its mode and owner, a new one
gets 0666 minus the umask; two outputs naming one file are a usage error
(exit 2) before anything is written; a failure leaves every target as it
was and no temporary file.  The real /dev/stdout is never used as a
target: the tests make their own links to /proc/self/fd/1.  TAP output;
checks that need root or setpriv are reported as `# SKIP`.

usage: test_outputs.py PATH_TO_CTXPACK"""
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading

import tap

CTXPACK = os.path.abspath(sys.argv[1])
NOBODY = 65534
ENV = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
SETPRIV = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--"]


def run(args, cwd, stdout=subprocess.PIPE, pass_fds=(), nobody=False, umask=None):
    argv = (SETPRIV if nobody else []) + [CTXPACK] + args
    p = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout,
                       stderr=subprocess.PIPE, env=ENV, pass_fds=pass_fds, timeout=60,
                       preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)
    return p.returncode, p.stdout, p.stderr


def read(path):
    with open(path, "rb") as f:
        return f.read()


def put(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def leftovers(d):
    """Temporary files an output may have left in d."""
    return [n for n in os.listdir(d) if ".ctxpack-" in n]


def outdir():
    d = tap.mkdtemp("ctxpack-outputs-")
    os.chmod(d, 0o777)
    return d


def is_link_to(path, target):
    return os.path.islink(path) and os.readlink(path) == target


def can_run_as_nobody():
    if os.geteuid() != 0:
        return "needs root to switch to uid %d" % NOBODY
    if not shutil.which("setpriv"):
        return "setpriv not installed"
    try:
        rc, _, err = run(["--version"], "/", nobody=True)
    except (OSError, subprocess.SubprocessError) as e:
        return "setpriv failed: %s" % e
    if rc != 0:
        return "uid %d cannot run %s: %s" % (NOBODY, CTXPACK, err[:100])
    return None


# -- descriptor links: /dev/stdout, /dev/fd/N, /proc/self/fd/N ----------------

def test_stdout_links(ctx, plain):
    d = outdir()
    link = os.path.join(d, "stdout")
    os.symlink("/proc/self/fd/1", link)

    out = os.path.join(d, "out.tar")
    with open(out, "wb") as f:
        rc, _, err = run(["pack", "-o", link, "."], ctx, stdout=f)
    tap.check("-o LINK (-> /proc/self/fd/1), stdout a file: exit 0, the archive in the file,"
              " the link kept",
              rc == 0 and read(out) == plain and is_link_to(link, "/proc/self/fd/1")
              and leftovers(d) == [], (rc, err, len(read(out)), os.listdir(d)))

    rc, got, err = run(["pack", "-o", link, "."], ctx)
    tap.check("-o LINK (-> /proc/self/fd/1), stdout a pipe: the archive arrives in the pipe",
              rc == 0 and got == plain and is_link_to(link, "/proc/self/fd/1"),
              (rc, err, len(got)))

    chain = os.path.join(d, "chain")
    os.symlink("stdout", chain)
    with open(out, "wb") as f:
        rc, _, err = run(["pack", "-o", chain, "."], ctx, stdout=f)
    tap.check("-o through two links to /proc/self/fd/1: the archive in stdout's file",
              rc == 0 and read(out) == plain and is_link_to(chain, "stdout"), (rc, err))

    # `>>`: the descriptor itself is written, O_APPEND and all.
    put(out, b"HEAD")
    with open(out, "ab") as f:
        rc, _, err = run(["pack", "-o", link, "."], ctx, stdout=f)
    tap.check("-o LINK, stdout opened for appending: what was there stays, the archive after it",
              rc == 0 and read(out) == b"HEAD" + plain, (rc, err, read(out)[:8]))

    for name in ("/dev/fd/1", "/proc/self/fd/1"):
        with open(out, "wb") as f:
            rc, _, err = run(["pack", "-o", name, "."], ctx, stdout=f)
        tap.check("-o %s, stdout a file: exit 0, the archive in the file" % name,
                  rc == 0 and read(out) == plain, (rc, err))


def test_descriptors(ctx, plain):
    d = outdir()
    target = os.path.join(d, "fd.tar")
    with open(target, "wb") as f:
        fd = f.fileno()
        rc, got, err = run(["pack", "-o", "/proc/self/fd/%d" % fd, "."], ctx, pass_fds=(fd,))
    tap.check("-o /proc/self/fd/N, N a file open for writing: the archive in that file",
              rc == 0 and got == b"" and read(target) == plain and leftovers(d) == [],
              (rc, err))

    r, w = os.pipe()
    rc, _, err = run(["pack", "-o", "/dev/fd/%d" % w, "."], ctx, pass_fds=(w,))
    os.close(w)
    with os.fdopen(r, "rb") as f:
        got = f.read()
    tap.check("-o /dev/fd/N, N a pipe: the archive arrives in the pipe",
              rc == 0 and got == plain, (rc, err, len(got)))

    a, b = socket.socketpair()
    rc, _, err = run(["pack", "-o", "/proc/self/fd/%d" % b.fileno(), "."], ctx,
                     pass_fds=(b.fileno(),))
    b.close()
    got = b""
    a.settimeout(10)
    while True:
        chunk = a.recv(65536)
        if not chunk:
            break
        got += chunk
    a.close()
    tap.check("-o /proc/self/fd/N, N a socket: the archive arrives on the socket",
              rc == 0 and got == plain, (rc, err, len(got)))

    with open(target, "rb") as f:
        fd = f.fileno()
        rc, _, err = run(["pack", "-o", "/proc/self/fd/%d" % fd, "."], ctx, pass_fds=(fd,))
    tap.check("-o /proc/self/fd/N, N open read-only: exit 1 naming it, the file untouched",
              rc == 1 and b"/proc/self/fd/%d" % fd in err and read(target) == plain, (rc, err))

    reason = can_run_as_nobody()
    name = "as uid %d: -o /dev/fd/1 and -o LINK (-> /proc/self/fd/1), stdout a file" % NOBODY
    if reason:
        tap.skip(name, reason)
        return
    link = os.path.join(d, "stdout")
    os.symlink("/proc/self/fd/1", link)
    ok, detail = True, []
    for o in ("/dev/fd/1", link):
        out = os.path.join(d, "nobody.tar")
        with open(out, "wb") as f:
            rc, _, err = run(["pack", "-o", o, "."], ctx, stdout=f, nobody=True)
        ok = ok and rc == 0 and read(out) == plain
        detail.append((o, rc, err))
    tap.check(name + ": the archive in the file", ok and is_link_to(link, "/proc/self/fd/1"),
              detail)


def test_fifo(ctx, plain):
    d = outdir()
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    link = os.path.join(d, "fifo.lnk")
    os.symlink("fifo", link)
    for name, target in (("-o FIFO", fifo), ("-o LINK (-> FIFO)", link)):
        box = []

        def reader():
            with open(fifo, "rb") as f:
                box.append(f.read())
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        rc, _, err = run(["pack", "-o", target, "."], ctx)
        t.join(10)
        if t.is_alive():    # ctxpack never opened it: let the reader go
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            t.join(10)
        tap.check("%s: the archive goes through the FIFO, which stays a FIFO" % name,
                  rc == 0 and box == [plain] and stat.S_ISFIFO(os.lstat(fifo).st_mode)
                  and leftovers(d) == [], (rc, err, [len(b) for b in box], os.listdir(d)))


# -- symlinks to files: written through ----------------------------------------

def test_file_links(ctx, plain):
    d = outdir()
    other = outdir()
    real = os.path.join(other, "real.tar")
    put(real, b"OLD")
    link = os.path.join(d, "ctx.tar")
    os.symlink(os.path.relpath(real, d), link)
    ino = os.stat(real).st_ino
    rc, _, err = run(["pack", "-o", link, "."], ctx)
    tap.check("-o LINK (-> a file in another directory): the file gets the archive, replaced"
              " (a new inode), the link stays a link",
              rc == 0 and read(real) == plain and os.stat(real).st_ino != ino
              and is_link_to(link, os.path.relpath(real, d))
              and leftovers(d) == [] and leftovers(other) == [], (rc, err, os.listdir(d)))

    dangling = os.path.join(d, "dangling")
    os.symlink("made.tar", dangling)
    rc, _, err = run(["pack", "-o", dangling, "."], ctx)
    made = os.path.join(d, "made.tar")
    tap.check("-o a dangling LINK: its target is created, the link kept",
              rc == 0 and os.path.isfile(made) and read(made) == plain
              and is_link_to(dangling, "made.tar"), (rc, err, os.listdir(d)))


def test_other_links(ctx):
    """--manifest, --stats=FILE and stats --html: the same rule."""
    d = outdir()
    other = outdir()
    man, sts = os.path.join(other, "m.tsv"), os.path.join(other, "s.json")
    put(man, b"OLD")
    put(sts, b"OLD")
    inos = (os.stat(man).st_ino, os.stat(sts).st_ino)
    os.symlink(man, os.path.join(d, "m.lnk"))
    os.symlink(sts, os.path.join(d, "s.lnk"))
    rc, _, err = run(["pack", "-o", os.path.join(d, "x.tar"), "--manifest",
                      os.path.join(d, "m.lnk"), "--stats=" + os.path.join(d, "s.lnk"), "."], ctx)
    m_ok = read(man).startswith(b"# ctxpack manifest") and os.stat(man).st_ino != inos[0]
    try:
        s_ok = json.loads(read(sts))["version"] == 2 and os.stat(sts).st_ino != inos[1]
    except ValueError:
        s_ok = False
    tap.check("--manifest LINK and --stats=LINK: the targets replaced atomically (new inodes),"
              " the links kept",
              rc == 0 and m_ok and s_ok and is_link_to(os.path.join(d, "m.lnk"), man)
              and is_link_to(os.path.join(d, "s.lnk"), sts)
              and leftovers(d) == [] and leftovers(other) == [], (rc, err, read(man)[:40]))

    page = os.path.join(other, "page.html")
    put(page, b"OLD")
    plink = os.path.join(d, "page.lnk")
    os.symlink(page, plink)
    rc, _, err = run(["stats", "--html", plink, "."], ctx)
    tap.check("stats --html LINK: the page replaces the target, the link stays a link",
              rc == 0 and read(page).startswith(b"<!DOCTYPE html>") and is_link_to(plink, page)
              and leftovers(d) == [] and leftovers(other) == [], (rc, err, os.listdir(d)))


def test_directories(ctx):
    d = outdir()
    sub = os.path.join(d, "sub")
    os.mkdir(sub)
    for opt in ("-o", "--manifest", "--stats=", "html"):
        put(os.path.join(d, "x.tar"), b"OLD")
        if opt == "html":
            args = ["stats", "--html", sub, "."]
        elif opt == "-o":
            args = ["pack", "-o", sub, "."]
        else:
            args = (["pack", "-o", os.path.join(d, "x.tar")]
                    + ([opt, sub] if opt == "--manifest" else [opt + sub]) + ["."])
        rc, _, err = run(args, ctx)
        tap.check("%s onto a directory: exit 1 naming it, nothing written (the archive's -o"
                  " target unchanged)" % (opt.rstrip("=") if opt != "html" else "stats --html"),
                  rc == 1 and b"'%s': Is a directory" % sub.encode() in err
                  and os.listdir(sub) == [] and read(os.path.join(d, "x.tar")) == b"OLD"
                  and leftovers(d) == [], (rc, err, os.listdir(d)))


# -- mode and owner ------------------------------------------------------------

def test_modes(ctx, plain):
    d = outdir()
    for mode in (0o600, 0o640):
        target = os.path.join(d, "m%o.tar" % mode)
        put(target, b"OLD", mode)
        rc, _, err = run(["pack", "-o", target, "."], ctx, umask=0o022)
        got = stat.S_IMODE(os.stat(target).st_mode)
        tap.check("-o over an existing %04o file keeps %04o (umask 022)" % (mode, mode),
                  rc == 0 and read(target) == plain and got == mode, (rc, err, oct(got)))


def test_other_modes(ctx):
    d = outdir()
    for opt in ("--manifest", "--stats"):
        target = os.path.join(d, "secret" + opt)
        put(target, b"OLD", 0o600)
        args = [opt, target] if opt == "--manifest" else [opt + "=" + target]
        rc, _, err = run(["pack", "-o", os.path.join(d, "o.tar")] + args + ["."], ctx)
        got = stat.S_IMODE(os.stat(target).st_mode)
        tap.check("%s over an existing 0600 file keeps 0600" % opt,
                  rc == 0 and read(target) != b"OLD" and got == 0o600, (rc, err, oct(got)))


def test_new_modes(ctx):
    d = outdir()
    for umask, want in ((0o022, 0o644), (0o027, 0o640)):
        target = os.path.join(d, "new-%o.tar" % umask)
        rc, _, err = run(["pack", "-o", target, "."], ctx, umask=umask)
        got = stat.S_IMODE(os.stat(target).st_mode)
        tap.check("-o a new file with umask %03o: mode %04o" % (umask, want),
                  rc == 0 and got == want, (rc, err, oct(got)))


def test_owner(ctx, plain):
    d = outdir()
    name = "-o over a file of uid %d as root: owner, group and mode kept" % NOBODY
    if os.geteuid() != 0:
        tap.skip(name, "needs root to chown")
    else:
        target = os.path.join(d, "theirs.tar")
        put(target, b"OLD", 0o640)
        os.chown(target, NOBODY, NOBODY)
        rc, _, err = run(["pack", "-o", target, "."], ctx)
        st = os.stat(target)
        tap.check(name, rc == 0 and read(target) == plain and st.st_uid == NOBODY
                  and st.st_gid == NOBODY and stat.S_IMODE(st.st_mode) == 0o640,
                  (rc, err, st.st_uid, st.st_gid, oct(st.st_mode)))

    name = "as uid %d, -o over root's 0600 file: exit 0, mode kept, owner not (EPERM)" % NOBODY
    reason = can_run_as_nobody()
    if reason:
        tap.skip(name, reason)
        return
    target = os.path.join(d, "roots.tar")
    put(target, b"OLD", 0o600)
    rc, _, err = run(["pack", "-o", target, "."], ctx, nobody=True)
    st = os.stat(target)
    tap.check(name, rc == 0 and read(target) == plain and st.st_uid == NOBODY
              and stat.S_IMODE(st.st_mode) == 0o600, (rc, err, st.st_uid, oct(st.st_mode)))


# -- one file, two outputs ------------------------------------------------------

def test_same_file(ctx):
    d = outdir()
    x = os.path.join(d, "x.tar")
    alias = os.path.join(d, "alias")
    os.symlink("x.tar", alias)
    cases = [
        ("-o x.tar --manifest x.tar (x.tar new)", ["pack", "-o", x, "--manifest", x], None),
        ("-o x.tar --manifest x.tar (x.tar exists)", ["pack", "-o", x, "--manifest", x], b"OLD"),
        ("-o x.tar --stats=./x.tar", ["pack", "-o", x, "--stats=" + os.path.join(d, ".", "x.tar")],
         b"OLD"),
        ("--stats=x --manifest x", ["pack", "-o", os.path.join(d, "a.tar"), "--stats=" + x,
                                    "--manifest", x], None),
        ("-o x.tar --manifest ALIAS (a symlink to x.tar)", ["pack", "-o", x, "--manifest", alias],
         b"OLD"),
        ("-o ALIAS --stats=x.tar (a dangling symlink to it, neither exists)",
         ["pack", "-o", alias, "--stats=" + x], None),
    ]
    for name, args, old in cases:
        for n in os.listdir(d):
            if n != "alias":
                os.unlink(os.path.join(d, n))
        if old is not None:
            put(x, old)
        rc, out, err = run(args + ["."], ctx)
        left = sorted(n for n in os.listdir(d) if n != "alias")
        tap.check("%s: exit 2 (usage), nothing written" % name,
                  rc == 2 and b"same file" in err and out == b""
                  and left == (["x.tar"] if old is not None else [])
                  and (old is None or read(x) == old), (rc, err, left))

    # The archive on stdout is an output too.
    link = os.path.join(d, "stdout")
    os.symlink("/proc/self/fd/1", link)
    rc, out, err = run(["pack", "--manifest", link, "."], ctx)
    tap.check("archive on stdout and --manifest LINK (-> /proc/self/fd/1): exit 2, nothing"
              " written", rc == 2 and out == b"" and b"same file" in err
              and is_link_to(link, "/proc/self/fd/1"), (rc, err, len(out)))
    rc, out, err = run(["stats", "--html", link, "."], ctx)
    tap.check("stats --html LINK (-> /proc/self/fd/1), the report on stdout: exit 2",
              rc == 2 and out == b"" and b"same file" in err
              and is_link_to(link, "/proc/self/fd/1"), (rc, err, len(out)))
    rc, out, err = run(["pack", "-o", "/dev/null", "--manifest", "/dev/null", "."], ctx)
    tap.check("-o /dev/null --manifest /dev/null: a character device takes both (exit 0)",
              rc == 0, (rc, err))


# -- failures leave everything as it was ----------------------------------------

def test_failures(plain_ctx):
    d = outdir()
    t, m, s = (os.path.join(d, n) for n in ("t.tar", "m.tsv", "s.json"))

    def reset():
        for n in os.listdir(d):
            p = os.path.join(d, n)
            if os.path.isdir(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
        for p in (t, m, s):
            put(p, b"OLD")

    def unchanged():
        return all(read(p) == b"OLD" for p in (t, m, s)) and leftovers(d) == []

    reset()
    rc, _, err = run(["pack", "-o", t, "--manifest", m,
                      "--stats=" + os.path.join(d, "missing", "s.json"), "."], plain_ctx)
    tap.check("--stats=FILE that cannot be written: exit 1 naming it; -o and --manifest targets"
              " unchanged, no temporary file",
              rc == 1 and b"missing/s.json" in err and unchanged(), (rc, err, os.listdir(d)))
    reset()
    rc, _, err = run(["pack", "-o", t, "--stats=" + s, "--manifest",
                      os.path.join(d, "missing", "m.tsv"), "."], plain_ctx)
    tap.check("--manifest FILE that cannot be written: exit 1; -o and --stats targets unchanged,"
              " no temporary file", rc == 1 and b"missing/m.tsv" in err and unchanged(),
              (rc, err, os.listdir(d)))

    name = "unreadable file in the context (uid %d): exit 1; -o, --manifest, --stats targets" \
        " unchanged, no temporary file" % NOBODY
    reason = can_run_as_nobody()
    if reason:
        tap.skip(name, reason)
        return
    ctx = tap.tree({"Dockerfile": b"FROM scratch\n", "ok.txt": b"ok", "sub/secret.txt": b"ss"})
    os.chmod(os.path.join(ctx, "sub", "secret.txt"), 0o600)
    reset()
    rc, _, err = run(["pack", "-o", t, "--manifest", m, "--stats=" + s, "."], ctx, nobody=True)
    tap.check(name, rc == 1 and b"sub/secret.txt" in err and unchanged(),
              (rc, err, os.listdir(d)))
    put(os.path.join(d, "p.html"), b"OLD")
    rc, _, err = run(["stats", "--duplicates", "--no-cache", "--html", os.path.join(d, "p.html"),
                      "."], ctx, nobody=True)
    tap.check("stats --html failing (an unreadable duplicate candidate): the page unchanged, no"
              " temporary file",
              rc == 1 and read(os.path.join(d, "p.html")) == b"OLD" and leftovers(d) == [],
              (rc, err, os.listdir(d)))


def main():
    ctx = tap.tree({"Dockerfile": b"FROM scratch\n", "a.txt": b"a" * 3000, "sub/b.txt": b"b"})
    rc, plain, err = run(["pack", "."], ctx)
    if rc != 0 or not plain:
        tap.check("pack . works", False, (rc, err))
        return tap.finish()
    test_stdout_links(ctx, plain)
    test_descriptors(ctx, plain)
    test_fifo(ctx, plain)
    test_file_links(ctx, plain)
    test_modes(ctx, plain)
    test_new_modes(ctx)
    test_owner(ctx, plain)
    test_other_links(ctx)
    test_directories(ctx)
    test_other_modes(ctx)
    test_same_file(ctx)
    test_failures(ctx)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

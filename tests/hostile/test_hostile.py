#!/usr/bin/env python3
"""test_hostile.py: ctxpack against hostile trees (TAP).

usage: test_hostile.py CTXPACK

Each tree is built in a temporary directory, packed with both builders
where that makes sense, and the archive is read back byte for byte (names
as raw bytes, types, sizes, contents, link targets), or the run must fail
loudly: exit status 1 and a message naming the path, with an output that
does not end like a complete archive.  The trees:

  1. 1,000,000 files in one directory: every member, in order; the peak
     RSS per entry is bounded;
  2. a directory chain 10,000 levels deep (paths ten times PATH_MAX):
     every level, PAX path records, `digest` of the tree and of the tar;
  3. names with newlines, tabs, backslashes, invalid UTF-8, 255 bytes,
     leading '-': exact round trip;
  4. symlink loops and symlinks to / and outside the context: archived as
     symlinks, never followed;
  5. 100,000 hard links to one file: one file member, then link members
     (in /dev/shm when the file system of /tmp caps links: ext4 at 65,000);
  6. a sparse 64 GiB file: the exact size in a PAX record, the stream
     counted to its end and sampled;
  7. FIFOs nobody writes, device nodes, a socket: archived as such,
     never opened; a FIFO or device as .dockerignore is refused;
  8. as uid 65534: unreadable files and unsearchable directories fail
     loudly when sent and do not matter when excluded;
  9. RLIMIT_NOFILE 32: a tree of thousands of files in hundreds of
     directories, with -j 8, packs to the same bytes (and with 5..24
     descriptors: the same bytes or a loud failure);
 10. trees that change while they are packed: every run either succeeds
     with a valid archive of contents the files had, or fails with a
     message; no byte from outside the context (a random canary) ever
     appears.  Deterministic cases first (the archiver held on a full
     pipe while the tree changes), then a random loop.

Measured times and peak memory are printed as TAP comments (# ...); the
only bounds asserted are on memory (CONVENTIONS.md: no timed
assertions).  HOSTILE_ONLY=3,4 runs only those trees (development);
HOSTILE_SKIP=1,5 all but those (CI runs them in another build)."""
import collections
import errno
import fcntl
import itertools
import json
import os
import random
import re
import resource
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import tap  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
NOBODY = 65534
CACHE = tap.mkdtemp("ctxpack-hostile-cache-")
ENV = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
ENV["XDG_CACHE_HOME"] = CACHE
BUILDERS = ("buildkit", "classic")
ZERO = bytes(512)
PAGE = os.sysconf("SC_PAGE_SIZE")
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
ONLY = {int(x) for x in os.environ.get("HOSTILE_ONLY", "").split(",") if x.strip()}
# HOSTILE_SKIP=1,5: those trees are left to another run (scripts/test.sh:
# the ASan run leaves trees 1 and 5 to hostile-memory in the normal build);
# each is named in a comment.
SKIP = {int(x) for x in os.environ.get("HOSTILE_SKIP", "").split(",") if x.strip()}
# Set by tests/hostile/meson.build in a sanitizer build: shadow memory and
# redzones double the footprint, so the memory bounds are measured and
# shown but not asserted there (the normal build asserts them).
SANITIZED = os.environ.get("CTXPACK_SANITIZED", "")
T_START = time.monotonic()


def rss_check(name, cond, detail):
    """A memory bound: asserted, except in a sanitizer build (skipped
    there, visibly, with the reason)."""
    if SANITIZED:
        tap.skip(name, "not asserted under %s (shadow memory and redzones)" % SANITIZED)
    else:
        tap.check(name, cond, detail)


def note(msg):
    for line in str(msg).splitlines():
        print("# " + line)
    sys.stdout.flush()


def mkdtemp(prefix="ctxpack-hostile-", base=None):
    if base is None:
        return tap.mkdtemp(prefix)
    d = tempfile.mkdtemp(prefix=prefix, dir=base)
    os.chmod(d, 0o755)
    tap._cleanup.append(d)
    return d


def rmtree(d):
    shutil.rmtree(d, ignore_errors=True)


def wfile(path, data, mode=0o644):
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, mode)


def rfile(path):
    with open(path, "rb") as f:
        return f.read()


# ---- running ctxpack ---------------------------------------------------------

def run(args, cwd=None, timeout=600, preexec_fn=None, stdin=b"", prefix=()):
    """Runs ctxpack; returns (rc, stdout, stderr); rc is "timeout" when it
    had to be killed."""
    try:
        p = subprocess.run(list(prefix) + [CTXPACK] + list(args), cwd=cwd, input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                           preexec_fn=preexec_fn, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return "timeout", e.stdout or b"", e.stderr or b""
    return p.returncode, p.stdout, p.stderr


class Result:
    pass


# The child's peak RSS: ru_maxrss from wait4 carries over the RSS of the
# image before exec, so a child forked straight from this (large) Python
# process would report this process's size.  A small Python forks ctxpack
# instead and writes its ru_maxrss (KiB) to argv[1].
RSS_WRAPPER = """
import os, signal, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
signal.signal(signal.SIGTERM, lambda s, f: os.kill(pid, signal.SIGKILL))
while True:
    try:
        _, st, ru = os.wait4(pid, 0)
        break
    except InterruptedError:
        continue
with open(sys.argv[1], "w") as f:
    f.write(str(ru.ru_maxrss))
if os.WIFSIGNALED(st):
    signal.signal(os.WTERMSIG(st), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(st))
sys.exit(os.WEXITSTATUS(st))
"""


def run_stream(args, consume, cwd=None, timeout=900, preexec_fn=None, stdin=None, drain=True):
    """Runs ctxpack with its stdout on a pipe that consume(reader) reads
    while it runs (what consume leaves is drained, or with drain=False the
    pipe is closed on it).  Returns a Result:
    rc ("timeout" if killed), value (consume's), err, rss_kb (the child's
    own peak RSS, from wait4), secs, out_bytes."""
    r = Result()
    errf = tempfile.TemporaryFile()
    killed = []

    def kill():
        killed.append(1)
        try:
            p.terminate()       # the wrapper kills ctxpack
        except OSError:
            pass
    rssf = tempfile.NamedTemporaryFile(prefix="ctxpack-rss-")
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, "-c", RSS_WRAPPER, rssf.name, CTXPACK] + list(args),
                         cwd=cwd, stdout=subprocess.PIPE, bufsize=0, stderr=errf,
                         stdin=stdin if stdin is not None else subprocess.DEVNULL,
                         env=ENV, preexec_fn=preexec_fn)
    timer = threading.Timer(timeout, kill)
    timer.start()
    rd = Reader(p.stdout.fileno())
    try:
        r.value = consume(rd)
    finally:
        if drain:
            rd.drain()
        p.stdout.close()
        p.wait()
        timer.cancel()
    r.secs = time.monotonic() - t0
    r.rc = "timeout" if killed else p.returncode
    try:
        r.rss_kb = int(open(rssf.name).read())
    except ValueError:
        r.rss_kb = -1
    rssf.close()
    r.out_bytes = rd.pos
    errf.seek(0)
    r.err = errf.read()
    errf.close()
    return r


def pipeline_digest(pack_args, cwd, timeout=900):
    """`ctxpack pack ARGS | ctxpack digest -`: (pack rc, digest rc, digest, err)."""
    p1 = subprocess.Popen([CTXPACK, "pack"] + pack_args, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=ENV)
    p2 = subprocess.Popen([CTXPACK, "digest", "-"], stdin=p1.stdout, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=ENV)
    p1.stdout.close()
    try:
        out, err2 = p2.communicate(timeout=timeout)
        err1 = p1.stderr.read()
        rc1 = p1.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p1.kill()
        p2.kill()
        p1.wait()
        p2.wait()
        return "timeout", "timeout", b"", b""
    return rc1, p2.returncode, out.strip(), err1 + err2


def digest_dir(cwd, extra=(), timeout=900):
    rc, out, err = run(["digest", "--no-cache"] + list(extra) + ["."], cwd=cwd, timeout=timeout)
    return rc, out.strip(), err


# ---- reading tar streams ------------------------------------------------------

class Reader:
    """Exact reads from a descriptor (a pipe or a file) or from bytes;
    skip() splices what is not looked at to /dev/null."""

    def __init__(self, fd=None, data=None):
        self.fd = fd
        self.buf = data if data is not None else b""
        self.off = 0
        self.pos = 0    # bytes consumed
        self.eof = fd is None
        self.nosplice = False

    def _fill(self, want):
        while not self.eof and len(self.buf) - self.off < want:
            try:
                b = os.read(self.fd, max(want - (len(self.buf) - self.off), 1 << 20))
            except InterruptedError:
                continue
            if not b:
                self.eof = True
                break
            self.buf = self.buf[self.off:] + b
            self.off = 0

    def read(self, n):
        """n bytes, fewer only at the end of the stream."""
        self._fill(n)
        b = self.buf[self.off:self.off + n]
        self.off += len(b)
        self.pos += len(b)
        if self.off > (1 << 22):
            self.buf = self.buf[self.off:]
            self.off = 0
        return b

    def skip(self, n):
        """Skips n bytes; returns how many there were."""
        have = min(n, len(self.buf) - self.off)
        self.off += have
        self.pos += have
        n -= have
        done = have
        if n and not self.eof:
            null = os.open("/dev/null", os.O_WRONLY)
            try:
                while n:
                    k = None
                    if not self.nosplice:
                        try:
                            k = os.splice(self.fd, null, min(n, 1 << 30))
                        except (OSError, AttributeError):   # not a pipe, or Python < 3.10
                            self.nosplice = True    # read() buffers: no splice after it
                    if k is None:
                        k = len(self.read(min(n, 1 << 20)))
                        self.pos -= k   # read() counted it already
                    if not k:
                        self.eof = True
                        break
                    n -= k
                    done += k
                    self.pos += k
            finally:
                os.close(null)
        return done

    def drain(self):
        if self.fd is None:
            return self.skip(len(self.buf) - self.off)
        return self.skip(1 << 62)


def _num(field):
    if field and field[0] & 0x80:          # base-256
        v = field[0] & 0x7f
        for b in field[1:]:
            v = v << 8 | b
        return v
    s = field.split(b"\0", 1)[0].strip(b" ")
    return int(s, 8) if s else 0


def _cstr(b):
    return b.split(b"\0", 1)[0]


def _parse_pax(payload):
    recs = {}
    order = []
    pos = 0
    while pos < len(payload):
        sp = payload.index(b" ", pos)
        n = int(payload[pos:sp])
        rec = payload[sp + 1:pos + n - 1]     # without the newline
        k, _, v = rec.partition(b"=")
        recs[k] = v
        order.append(k)
        pos += n
    return recs, order


class Tar:
    """Iterates over the members of a tar stream (raw: names and link
    targets are bytes, directories keep their trailing '/').  A member is
    a dict: name, type (one character), mode, uid, gid, size, mtime,
    linkname, pax (dict of the PAX records that applied), data (bytes,
    for members of at most `keep` bytes, else None; big(m, reader) may
    read the data itself, exactly m["size"] bytes).  After the iteration,
    end is "eof" (two zero blocks, then nothing), "eof+N" (N bytes after
    them), "eof1", "none" (stops on a header boundary), "short" (inside a
    header or data) or "badsum"."""

    def __init__(self, reader, keep=1 << 20, big=None):
        self.r = reader
        self.keep = keep
        self.big = big
        self.end = None
        self.gnu = False

    def __iter__(self):
        r = self.r
        pax = {}
        while True:
            blk = r.read(512)
            if not blk:
                self.end = "none"
                return
            if len(blk) < 512:
                self.end = "short"
                return
            if blk == ZERO:
                if r.read(512) == ZERO:
                    extra = r.drain()
                    self.end = "eof" + ("+%d" % extra if extra else "")
                else:
                    self.end = "eof1"
                return
            if _num(blk[148:156]) != sum(blk[:148]) + 256 + sum(blk[156:]):
                self.end = "badsum"
                return
            typ = chr(blk[156])
            size = _num(blk[124:136])
            if typ in "xgLK":
                payload = r.read(size)
                pad = r.read(-size % 512)
                if len(payload) < size or len(pad) < -size % 512:
                    self.end = "short"
                    return
                if typ == "x":
                    pax = _parse_pax(payload)[0]
                elif typ in "LK":
                    self.gnu = True
                continue
            name = _cstr(blk[0:100])
            if blk[257:263] == b"ustar\0" and _cstr(blk[345:500]):
                name = _cstr(blk[345:500]) + b"/" + name
            m = {"name": pax.get(b"path", name), "type": typ, "mode": _num(blk[100:108]),
                 "uid": _num(blk[108:116]), "gid": _num(blk[116:124]),
                 "mtime": _num(blk[136:148]),
                 "linkname": pax.get(b"linkpath", _cstr(blk[157:257])),
                 "ustar_size": size, "pax": pax, "data": None,
                 "dev": (_num(blk[329:337]), _num(blk[337:345])) if typ in "34" else None}
            if b"size" in pax:
                size = int(pax[b"size"])
            m["size"] = size
            pax = {}
            if size <= self.keep:
                m["data"] = r.read(size)
                if len(m["data"]) < size:
                    self.end = "short"
                    return
            elif self.big:
                before = r.pos
                self.big(m, r)
                if r.pos - before != size:
                    self.end = "short"
                    return
            elif r.skip(size) < size:
                self.end = "short"
                return
            if len(r.read(-size % 512)) < -size % 512:
                self.end = "short"
                return
            yield m


def parse(data, keep=1 << 30):
    """(members, end) of a tar in memory."""
    t = Tar(Reader(data=data), keep=keep)
    try:
        ms = list(t)
    except (ValueError, IndexError) as e:
        return [], "unparsable: %s" % e
    return ms, t.end


def collect(keep=1 << 20):
    """A consume function for run_stream: (members, end)."""
    def consume(rd):
        t = Tar(rd, keep=keep)
        try:
            ms = list(t)
        except (ValueError, IndexError) as e:
            return [], "unparsable: %s" % e
        return ms, t.end
    return consume


# ---- what the archive should hold ----------------------------------------------

def expected_from_fs(root, builder, skip=()):
    """The members a context without .dockerignore should give, from the
    file system, in walk order: (name, type, mode, size, mtime, linkname,
    data).  Hard links: the first name is a file, later ones link to it
    (BuildKit does not link symlinks)."""
    root = os.fsencode(root)
    out = []
    seen = {}
    stack = [(b"", iter(sorted(os.listdir(root))))]
    while stack:
        rel, it = stack[-1]
        name = next(it, None)
        if name is None:
            stack.pop()
            continue
        path = rel + b"/" + name if rel else name
        if path in skip:
            continue
        full = os.path.join(root, path)
        st = os.lstat(full)
        mode = stat.S_IMODE(st.st_mode)
        mt = int(st.st_mtime)
        if stat.S_ISDIR(st.st_mode):
            out.append((path + b"/", "5", mode, 0, mt, b"", b""))
            stack.append((path, iter(sorted(os.listdir(full)))))
            continue
        if stat.S_ISSOCK(st.st_mode) and builder == "classic":
            continue
        linkable = st.st_nlink > 1 and (builder == "classic" or not stat.S_ISLNK(st.st_mode))
        key = (st.st_dev, st.st_ino)
        if linkable and key in seen:
            out.append((path, "1", mode, 0, mt, seen[key], b""))
            continue
        if linkable:
            seen[key] = path
        if stat.S_ISREG(st.st_mode):
            out.append((path, "0", mode, st.st_size, mt, b"", rfile(full)))
        elif stat.S_ISLNK(st.st_mode):
            out.append((path, "2", mode, 0, mt, os.readlink(full), b""))
        elif stat.S_ISFIFO(st.st_mode):
            out.append((path, "6", mode, 0, mt, b"", b""))
        elif stat.S_ISSOCK(st.st_mode):
            out.append((path, "0", mode, 0, mt, b"", b""))
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            out.append((path, "3" if stat.S_ISCHR(st.st_mode) else "4", mode, 0, mt, b"",
                        (os.major(st.st_rdev), os.minor(st.st_rdev))))
        else:
            out.append((path, "?", mode, 0, mt, b"", b""))
    return out


def as_tuples(members):
    return [(m["name"], m["type"], m["mode"], m["size"], m["mtime"], m["linkname"],
             m["dev"] or (m["data"] if m["data"] is not None else b"")) for m in members]


def first_diff(got, want):
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return "member %d: got %r want %r" % (i, g[:6], w[:6])
    if len(got) != len(want):
        return "got %d members, want %d; extra: %r" % (
            len(got), len(want), (got[len(want):] or want[len(got):])[:3])
    return None


def check_archive_fs(name, root, builder, members, end, skip=()):
    want = expected_from_fs(root, builder, skip)
    got = as_tuples(members)
    d = first_diff(got, want)
    tap.check(name, end == "eof" and d is None, (end, d))


def rss_note(label, res, entries):
    note("%s: exit %s, %.1f s, peak RSS %.1f MiB (%.0f bytes per entry over %d entries)"
         % (label, res.rc, res.secs, res.rss_kb / 1024, res.rss_kb * 1024 / max(entries, 1),
            entries))


def ended_badly(out):
    """An output that must not pass for a complete archive."""
    try:
        ms, end = parse(out)
    except Exception as e:       # noqa: BLE001: anything unparsable is not complete
        return True, "unparsable: %s" % e
    return not end.startswith("eof"), end


def baseline_rss():
    d = mkdtemp()
    wfile(os.path.join(d, "Dockerfile"), b"FROM scratch\n")
    res = run_stream(["pack", "."], collect(), cwd=d, timeout=60)
    rmtree(d)
    return res.rss_kb


# ---- 1. a million files in one directory -----------------------------------------

# Bytes of peak RSS per entry that `pack` may use: per entry the walk keeps
# one record (struct went, 152 bytes), the path in a string arena (9 bytes
# and a NUL here), a pointer in the result and one in the read-ahead plan
# (16), a keep flag (1), and while its directory is read a getdents name
# slot (struct dname, 32 bytes, and the name): about 220 bytes.  400 leaves
# room for allocator rounding and the vectors' growth slack while still
# catching a per-entry allocation (malloc's 16-byte header and 32-byte
# minimum) on top of a second copy of the records.
PACK_BYTES_PER_ENTRY = 400
# digest keeps the walk as pack does and, per file, a content hash and a
# flag (17 bytes) and the hashing job's arrays (32); members are digested
# as they go by, not kept: about 270 bytes, bounded at 480.
DIGEST_BYTES_PER_ENTRY = 480
RSS_CONSTANT = 48 << 20   # the program, its libraries, per-thread buffers


def tree_million(n=1000000):
    root = mkdtemp()
    t0 = time.monotonic()
    wfile(os.path.join(root, "Dockerfile"), b"FROM scratch\n")
    dfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = os.O_CREAT | os.O_WRONLY | os.O_EXCL | os.O_CLOEXEC
        for i in range(n):
            os.close(os.open("f%07d" % i, flags, 0o644, dir_fd=dfd))
    finally:
        os.close(dfd)
    note("1M files: created %d files in %.1f s" % (n, time.monotonic() - t0))
    base = baseline_rss()
    note("baseline: pack of a one-file context peaks at %.1f MiB RSS" % (base / 1024))
    try:
        for builder in BUILDERS:
            def consume(rd):
                t = Tar(rd, keep=0)
                count = 0
                bad = None
                want = itertools.chain([b"Dockerfile"], (b"f%07d" % i for i in range(n)))
                try:
                    for m in t:
                        w = next(want, None)
                        if bad is None and (m["name"] != w or m["type"] != "0" or
                                            (w != b"Dockerfile" and m["size"] != 0) or
                                            m["mode"] != 0o644):
                            bad = (count, m["name"], m["type"], m["size"], w)
                        count += 1
                except (ValueError, IndexError) as e:
                    bad = "unparsable: %s" % e
                return count, bad, t.end
            res = run_stream(["pack", "--builder=" + builder, "."], consume, cwd=root,
                             timeout=900)
            count, bad, end = res.value
            rss_note("1M files, pack --builder=%s" % builder, res, n + 1)
            tap.check("1M files (%s): exit 0, every member in order, a complete archive"
                      % builder, res.rc == 0 and count == n + 1 and bad is None and
                      end == "eof", (res.rc, count, bad, end, res.err[-500:]))
            limit = RSS_CONSTANT + PACK_BYTES_PER_ENTRY * (n + 1)
            rss_check("1M files (%s): pack's peak RSS %.0f MiB <= %d MiB (%d B/entry + %d MiB)"
                      % (builder, res.rss_kb / 1024, limit >> 20, PACK_BYTES_PER_ENTRY,
                         RSS_CONSTANT >> 20), res.rss_kb * 1024 <= limit, res.rss_kb)
        # digest of the directory (memory measured) and of the tar pack writes
        def consume_digest(rd):
            return rd.read(1 << 16)
        res = run_stream(["digest", "--no-cache", "."], consume_digest, cwd=root, timeout=900)
        rss_note("1M files, digest --no-cache", res, n + 1)
        limit = RSS_CONSTANT + DIGEST_BYTES_PER_ENTRY * (n + 1)
        rss_check("1M files: digest's peak RSS %.0f MiB <= %d MiB (%d B/entry + %d MiB)"
                  % (res.rss_kb / 1024, limit >> 20, DIGEST_BYTES_PER_ENTRY, RSS_CONSTANT >> 20),
                  res.rc == 0 and res.rss_kb * 1024 <= limit, (res.rc, res.rss_kb, res.err))
        t0 = time.monotonic()
        rc1, rc2, dtar, err = pipeline_digest(["."], root)
        note("1M files: pack | digest - took %.1f s" % (time.monotonic() - t0))
        tap.check("1M files: digest of the directory == digest of the tar pack writes",
                  res.rc == 0 and rc1 == 0 and rc2 == 0 and dtar == res.value.strip()
                  and dtar.startswith(b"xxh3-128:"), (res.rc, rc1, rc2, dtar, res.value, err))
    finally:
        t0 = time.monotonic()
        rmtree(root)
        note("1M files: removed in %.1f s" % (time.monotonic() - t0))


# ---- 2. a 10,000-level chain ------------------------------------------------------

def flatten_remove(root, comp):
    """Removes a chain root/comp/comp/... of any depth with short paths
    only (shutil.rmtree recurses once per level)."""
    root = os.fsencode(root)
    comp = os.fsencode(comp)
    k = 0
    cur = os.path.join(root, comp)
    flat = []
    while True:
        nxt = os.path.join(cur, comp)
        try:
            dst = os.path.join(root, b"flat%d" % k)
            os.rename(nxt, dst)
        except FileNotFoundError:
            break
        except NotADirectoryError:
            break
        flat.append(cur)
        cur = dst
        k += 1
    flat.append(cur)
    for d in flat:
        rmtree(d)
    rmtree(root)


def deep_opens(root, levels):
    """ls of the chain opens each directory a bounded number of times, at
    the usual descriptor limits and at a small one: the walker once
    reopened every directory below its descriptor budget from the deepest
    kept one, quadratic in the depth (3.2 million openat calls and 48 s
    for 10,000 levels).  Counted with strace, not timed."""
    strace = shutil.which("strace")
    for lim in (1024, 64, 20):
        name = "deep %d levels: ls under ulimit -n %d opens each directory a bounded " \
               "number of times" % (levels, lim)
        if not strace:
            tap.skip(name, "strace(1) not installed")
            continue
        with tempfile.NamedTemporaryFile(prefix="ctxpack-strace-") as log:
            def limit(lim=lim):
                resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
            p = subprocess.run([strace, "-f", "-c", "-e", "trace=openat,openat2", "-o",
                                log.name, CTXPACK, "ls", "."], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=tap.under_strace(os.environ), preexec_fn=limit, timeout=900)
            opens = sum(int(m.group(1)) for m in
                        re.finditer(rb"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?openat2?$",
                                    open(log.name, "rb").read(), re.M))
        lines = p.stdout.count(b"\n")
        tap.check(name, p.returncode == 0 and lines == levels + 3 and 0 < opens < 4 * levels,
                  (p.returncode, lines, opens, p.stderr[-300:]))


def tree_deep(levels=10000, comp="dir"):
    root = mkdtemp()
    t0 = time.monotonic()
    wfile(os.path.join(root, "Dockerfile"), b"FROM scratch\n")
    mid_level = levels // 2
    leaf_data = b"the bottom of %d levels\n" % levels
    mid_data = b"half way down\n"
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(1, levels + 1):
            os.mkdir(comp, 0o755, dir_fd=fd)
            nfd = os.open(comp, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
            if i == mid_level:
                f = os.open("mid.txt", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)
                os.write(f, mid_data)
                os.close(f)
        f = os.open("leaf", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)
        os.write(f, leaf_data)
        os.close(f)
    finally:
        os.close(fd)
    c = comp.encode() + b"/"
    deepest = len(c) * levels + len(b"leaf")
    note("deep: %d levels created in %.1f s; the deepest path is %d bytes (PATH_MAX 4096)"
         % (levels, time.monotonic() - t0, deepest))

    def want():
        yield (b"Dockerfile", "0", b"FROM scratch\n")
        for k in range(1, levels + 1):
            yield (c * k, "5", b"")
        yield (c * levels + b"leaf", "0", leaf_data)
        yield (c * mid_level + b"mid.txt", "0", mid_data)

    try:
        for builder in BUILDERS:
            def consume(rd):
                t = Tar(rd, keep=1 << 16)
                count = pax_paths = 0
                bad = None
                w = want()
                try:
                    for m in t:
                        exp = next(w, None)
                        got = (m["name"], m["type"], m["data"] or b"")
                        if bad is None and got != exp:
                            bad = (count, got[0][:80], len(got[0]), got[1],
                                   exp and (exp[0][:80], len(exp[0]), exp[1]))
                        # ustar holds at most 155 + '/' + 100 bytes
                        if len(m["name"]) > 256 and b"path" not in m["pax"]:
                            bad = bad or (count, "a long name without a PAX path record")
                        pax_paths += b"path" in m["pax"]
                        count += 1
                except (ValueError, IndexError) as e:
                    bad = "unparsable: %s" % e
                return count, pax_paths, bad, t.end
            res = run_stream(["pack", "--builder=" + builder, "."], consume, cwd=root,
                             timeout=900)
            count, pax_paths, bad, end = res.value
            rss_note("deep, pack --builder=%s (%d MiB of archive)" % (builder,
                                                                    res.out_bytes >> 20),
                     res, levels + 3)
            tap.check("deep %d levels (%s): exit 0, every level and both files in order, "
                      "PAX path records, a complete archive" % (levels, builder),
                      res.rc == 0 and count == levels + 3 and bad is None and end == "eof"
                      and pax_paths >= levels - 100, (res.rc, count, pax_paths, bad, end,
                                                      res.err[-300:]))
        deep_opens(root, levels)
        t0 = time.monotonic()
        rc, ddir, err = digest_dir(root)
        t1 = time.monotonic()
        rc1, rc2, dtar, err2 = pipeline_digest(["."], root)
        note("deep: digest of the directory %.1f s, pack | digest - %.1f s"
             % (t1 - t0, time.monotonic() - t1))
        tap.check("deep %d levels: digest of the directory works and equals the tar's"
                  % levels, rc == 0 and rc1 == 0 and rc2 == 0 and ddir == dtar and
                  ddir.startswith(b"xxh3-128:"), (rc, ddir, err, rc1, rc2, dtar, err2))
    finally:
        flatten_remove(root, comp)


# ---- 3. names --------------------------------------------------------------------

HOSTILE_NAMES = [
    b"new\nline", b"\n", b"tab\there", b"\t", b"back\\slash", b"\\", b"\\\\n",
    b"inv\xff\xfe", b"caf\xe9", b"\xc3\x28", b"\xed\xa0\x80surrogate", b"\xf4\x90\x80\x80",
    b"\xc0\xaf", b"emoji\xf0\x9f\x98\x80", b"a" * 255, b"\xc3\xa9" * 127 + b"x",
    b"-rf", b"--help", b"-", b"--", b"-j", b" lead", b"trail ", b"\r", b"cr\r\nlf",
    b"\x01\x02\x1f", b"\x7f", b"*", b"?", b"[x]", b"!bang", b"#hash", b"..." ,
    b".hidden", b"quote\"'", b"%41", b"a b", b"\x1b[31mred",
    b"n" * 99, b"n" * 100, b"m" * 101, b"\xc3\xa9" * 50,   # the ustar name field's edge
]


def tree_names():
    root = mkdtemp()
    r = os.fsencode(root)
    wfile(os.path.join(root, "Dockerfile"), b"FROM scratch\n")
    for n in HOSTILE_NAMES:
        wfile(os.path.join(r, n), b"content of " + n)
    # directories with such names, and long paths through them
    for d in (b"dir\nnl", b"d\xff\xfe", b"-d", b"b" * 255, b"\\dir"):
        os.mkdir(os.path.join(r, d))
        for n in (b"x\ny", b"c" * 255, b"-", b"\xff"):
            wfile(os.path.join(r, d, n), d + b"/" + n)
    # paths at the edge of ustar's prefix (155) + '/' + name (100)
    for plen in (154, 155, 156):
        os.mkdir(os.path.join(r, b"p" * plen))
        wfile(os.path.join(r, b"p" * plen, b"q" * 100), b"%d + 1 + 100" % plen)
        wfile(os.path.join(r, b"p" * plen, b"q" * 101), b"%d + 1 + 101" % plen)
    os.makedirs(os.path.join(r, b"b" * 255, b"e" * 255, b"f" * 255))
    wfile(os.path.join(r, b"b" * 255, b"e" * 255, b"f" * 255, b"g" * 255), b"767 bytes deep")
    # symlinks whose targets hold the same bytes (a 4000-byte target too)
    os.symlink(b"tgt\n\xff\\" + b"z" * 50, os.path.join(r, b"ln\t"))
    os.symlink(b"-rf", os.path.join(r, b"-ln"))
    os.symlink(b"t" * 4000, os.path.join(r, b"ln-long"))
    os.symlink(b"\xc3\x28/\n/..", os.path.join(r, b"ln\xff"))
    for builder in BUILDERS:
        rc, out, err = run(["pack", "--builder=" + builder, "."], cwd=root)
        members, end = parse(out)
        check_archive_fs("names (%s): exit 0; names, link targets and contents round-trip "
                         "as raw bytes" % builder, root, builder, members, end)
        if rc != 0:
            note("names (%s): exit %s: %r" % (builder, rc, err))
        rc2, out2, err2 = run(["ls", "-z", "--builder=" + builder, "."], cwd=root)
        names = [m["name"].rstrip(b"/") if m["type"] == "5" else m["name"] for m in members]
        listed = out2.split(b"\0")[:-1]
        listed = [n.rstrip(b"/") for n in listed]
        tap.check("names (%s): ls -z lists the same raw names in the same order" % builder,
                  rc2 == 0 and listed == names, (rc2, first_diff([(x,) for x in listed],
                                                                 [(x,) for x in names]), err2))
        rc3, ddir, err3 = digest_dir(root, ["--builder=" + builder])
        tf = os.path.join(mkdtemp(), "names.tar")
        wfile(tf, out)
        rc4, dtar, err4 = run(["digest", tf])
        tap.check("names (%s): digest of the directory == digest of the tar" % builder,
                  rc3 == 0 and rc4 == 0 and ddir == dtar.strip(), (rc3, ddir, err3, rc4, dtar,
                                                                   err4))
    # a context directory whose own name starts with '-', given after --
    parent = mkdtemp()
    dash = os.path.join(parent, "-ctx")
    os.mkdir(dash)
    wfile(os.path.join(dash, "Dockerfile"), b"FROM scratch\n")
    rc, out, err = run(["pack", "--", "-ctx"], cwd=parent)
    ms, end = parse(out)
    tap.check("a context named '-ctx' given after --: packed",
              rc == 0 and [m["name"] for m in ms] == [b"Dockerfile"] and end == "eof",
              (rc, err, [m["name"] for m in ms], end))
    rmtree(root)


# ---- 4. symlinks -----------------------------------------------------------------

def make_outside(marker):
    """A directory outside every context: a canary file holding marker, a
    file for every name the contexts use, and a symlink to /."""
    out = mkdtemp("ctxpack-hostile-outside-")
    wfile(os.path.join(out, "canary-file"), marker)
    os.symlink("/", os.path.join(out, "rootlink"))
    return out


def tree_symlinks():
    marker = os.urandom(32)
    outside = make_outside(marker)
    outdir = os.path.join(outside, "dir")
    os.mkdir(outdir)
    wfile(os.path.join(outdir, "inner"), marker)
    wfile(os.path.join(outside, "ignore"), b"*\n")
    root = mkdtemp()
    wfile(os.path.join(root, "Dockerfile"), b"FROM scratch\n")
    links = {
        "a": "b", "b": "a",                     # a loop
        "self": ".", "up": "..", "upup": "../../../../../../../..",
        "root": "/", "etc": "/etc", "passwd": "/etc/passwd",
        "out-dir": outdir, "out-file": os.path.join(outside, "canary-file"),
        "out-rel": os.path.relpath(outdir, root),
        "dangling": "does/not/exist", "chain1": "chain2", "chain2": "chain3",
        "chain3": "out-dir", "sub/loop": "../sub", "sub/deep": "../" * 30 + "etc/passwd",
        "sub/selfloop": "selfloop", "proc": "/proc/self/root",
    }
    os.mkdir(os.path.join(root, "sub"))
    for name, target in links.items():
        os.symlink(target, os.path.join(root, name))
    secrets = [marker, rfile("/etc/passwd")[:64]]
    for builder in BUILDERS:
        rc, out, err = run(["pack", "--builder=" + builder, "."], cwd=root, timeout=60)
        members, end = parse(out)
        check_archive_fs("symlinks (%s): exit 0, every link a symlink member with its "
                         "target, nothing else" % builder, root, builder, members, end)
        names = {m["name"] for m in members}
        tap.check("symlinks (%s): no member below a link, no byte from outside" % builder,
                  rc == 0 and not any(s and s in out for s in secrets) and
                  all(m["type"] in "025" for m in members) and
                  not any(n.startswith((b"root/", b"etc/", b"out-dir/", b"self/", b"up/",
                                        b"proc/")) for n in names), (rc, sorted(names), err))
        rc, dd, err = digest_dir(root, ["--builder=" + builder])
        tf = os.path.join(mkdtemp(), "s.tar")
        wfile(tf, out)
        rc2, dt, err2 = run(["digest", tf])
        tap.check("symlinks (%s): digest works and equals the tar's" % builder,
                  rc == 0 and rc2 == 0 and dd == dt.strip(), (rc, dd, err, rc2, dt, err2))
        rc, lsout, err = run(["ls", "-l", "--builder=" + builder, "."], cwd=root, timeout=60)
        tap.check("symlinks (%s): ls -l shows the links, nothing from outside" % builder,
                  rc == 0 and b"passwd -> /etc/passwd" in lsout and marker not in lsout
                  and b"inner" not in lsout, (rc, lsout[:2000], err))
    # Exceptions that name paths through the links: nothing is found there.
    wfile(os.path.join(root, ".dockerignore"),
          b"*\n!Dockerfile\n!root/etc/passwd\n!out-dir/**\n!etc\n!etc/*\n!self/Dockerfile\n"
          b"!sub/loop/sub/loop/x\n")
    for builder in BUILDERS:
        rc, out, err = run(["pack", "--builder=" + builder, "."], cwd=root, timeout=60)
        members, end = parse(out)
        got = [(m["name"], m["type"], m["linkname"]) for m in members]
        want = ([(b".dockerignore", "0", b"")] if builder == "classic" else []) + [
            (b"Dockerfile", "0", b""), (b"etc", "2", b"/etc")]
        tap.check("symlinks + exceptions through them (%s): only the link itself, no walk "
                  "through it" % builder, rc == 0 and end == "eof" and got == want
                  and marker not in out, (rc, got, err))
    os.unlink(os.path.join(root, ".dockerignore"))
    # A Dockerfile that is a link out of the context: docker build fails.
    df = os.path.join(root, "Dockerfile")
    os.rename(df, df + ".real")
    os.symlink(os.path.join(outside, "canary-file"), df)
    for builder in BUILDERS:
        rc, out, err = run(["pack", "--builder=" + builder, "."], cwd=root, timeout=60)
        tap.check("symlinks (%s): a Dockerfile linking out of the context: exit 1 naming it, "
                  "nothing written, the target not read" % builder,
                  rc == 1 and b"Dockerfile" in err and out == b"" and marker not in err,
                  (rc, err, len(out)))
    os.unlink(df)
    os.rename(df + ".real", df)
    # BuildKit resolves .dockerignore's symlinks inside the context: a link
    # to the outside "*" file reads <context>/<that path>, which is absent.
    os.symlink(os.path.join(outside, "ignore"), os.path.join(root, ".dockerignore"))
    rc, out, err = run(["pack", "."], cwd=root, timeout=60)
    members, end = parse(out)
    names = [m["name"] for m in members]
    tap.check("buildkit: .dockerignore -> an outside file is resolved inside the context "
              "(absent: no rules), the outside file is not read",
              rc == 0 and end == "eof" and b"a" in names and b"sub/" in names and
              (b".dockerignore", "2") in [(m["name"], m["type"]) for m in members],
              (rc, names, err))
    rmtree(root)


# ---- 5. hard links -----------------------------------------------------------------

def tree_hardlinks(n=100000, per_dir=1000):
    data = b"one inode, %d names\n" % n
    bases = [None, "/dev/shm"]
    root = None
    for base in bases:
        if base and not os.path.isdir(base):
            continue
        root = mkdtemp(base=base)
        wfile(os.path.join(root, "Dockerfile"), b"FROM scratch\n")
        first = os.path.join(root, "a-first")
        wfile(first, data)
        try:
            t0 = time.monotonic()
            for i in range(n - 1):
                d = os.path.join(root, "d%03d" % (i // per_dir))
                if i % per_dir == 0:
                    os.mkdir(d)
                os.link(first, os.path.join(d, "l%06d" % i))
            break
        except OSError as e:
            if e.errno != errno.EMLINK:
                raise
            note("hard links: %s allows only %d links to one inode (%s); trying /dev/shm"
                 % (base or tempfile.gettempdir(), os.stat(first).st_nlink, e))
            rmtree(root)
            root = None
    if root is None:
        tap.skip("100,000 hard links to one file", "no file system here takes %d links" % n)
        return
    note("hard links: %d names of one inode created in %.1f s on %s" % (
        os.stat(first).st_nlink, time.monotonic() - t0, root))
    try:
        ndirs = (n - 1 + per_dir - 1) // per_dir
        for builder in BUILDERS:
            def consume(rd):
                t = Tar(rd, keep=1 << 16)
                files = links = other = 0
                bad = []
                try:
                    for m in t:
                        if m["type"] == "0" and m["name"] == b"a-first":
                            files += 1
                            if m["data"] != data:
                                bad.append(("data", m["size"]))
                        elif m["type"] == "1":
                            links += 1
                            if m["linkname"] != b"a-first" or m["size"] != 0 or (
                                    links % 9973 == 1 and not m["name"].startswith(b"d")):
                                bad.append((m["name"], m["linkname"], m["size"]))
                        else:
                            other += 1
                except (ValueError, IndexError) as e:
                    bad.append("unparsable: %s" % e)
                return files, links, other, bad[:5], t.end
            res = run_stream(["pack", "--builder=" + builder, "."], consume, cwd=root,
                             timeout=600)
            files, links, other, bad, end = res.value
            rss_note("hard links, pack --builder=%s" % builder, res, n + ndirs + 1)
            tap.check("hard links (%s): one file member with the data, %d link members to it"
                      % (builder, n - 1), res.rc == 0 and files == 1 and links == n - 1 and
                      other == ndirs + 1 and not bad and end == "eof",
                      (res.rc, files, links, other, bad, end, res.err[-300:]))
            limit = RSS_CONSTANT + PACK_BYTES_PER_ENTRY * (n + ndirs)
            rss_check("hard links (%s): peak RSS %.0f MiB <= %d MiB" % (
                builder, res.rss_kb / 1024, limit >> 20), res.rss_kb * 1024 <= limit,
                res.rss_kb)
        rc, dd, err = digest_dir(root)
        rc1, rc2, dt, err2 = pipeline_digest(["."], root)
        tap.check("hard links: digest works and equals the tar's",
                  rc == 0 and rc1 == 0 and rc2 == 0 and dd == dt, (rc, dd, err, dt, err2))
    finally:
        rmtree(root)


# ---- 6. a sparse 64 GiB file -----------------------------------------------------------

def tree_sparse(size=64 << 30):
    root = mkdtemp()
    wfile(os.path.join(root, "Dockerfile"), b"FROM scratch\n")
    marks = {0: b"HELLO-START", size // 2: b"MIDDLE", size - 7: b"THE-END"}
    path = os.path.join(root, "big")
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        os.ftruncate(fd, size)
        for off, b in marks.items():
            os.pwrite(fd, b, off)
    finally:
        os.close(fd)
    wfile(os.path.join(root, "zz-after"), b"after the big one\n")
    note("sparse: %d bytes apparent, %d KiB allocated" % (
        os.stat(path).st_size, os.stat(path).st_blocks // 2))
    try:
        # The header, with both builders: read the start of the stream only.
        for builder in BUILDERS:
            class Header(Exception):
                pass

            def stop(m, r):
                raise Header(m)

            def head(rd):
                got = []
                try:
                    for m in Tar(rd, keep=1 << 16, big=stop):
                        got.append(m)
                except Header as h:
                    got.append(h.args[0])
                except (ValueError, IndexError):
                    pass
                return got
            res = run_stream(["pack", "--builder=" + builder, "."], head, cwd=root, timeout=120,
                             drain=False)
            got = res.value
            big = got[1] if len(got) > 1 else {}
            tap.check("sparse 64 GiB (%s): the header carries the exact size in a PAX size "
                      "record" % builder, len(got) == 2 and big.get("name") == b"big" and
                      big.get("type") == "0" and big.get("pax", {}).get(b"size") ==
                      str(size).encode() and big.get("size") == size,
                      [{k: v for k, v in m.items() if k != "data"} for m in got])
        rc, out, err = run(["ls", "-l", "."], cwd=root)
        tap.check("sparse 64 GiB: ls -l shows the exact size",
                  rc == 0 and b" %d big" % size in out, (rc, out, err))
        rc, out, err = run(["stats", "--json", "."], cwd=root)
        try:
            js = json.loads(out)
        except ValueError:
            js = {}
        tap.check("sparse 64 GiB: stats --json counts the exact bytes",
                  rc == 0 and js.get("sent", {}).get("bytes") == size + 13 + 18,
                  (rc, js.get("sent"), err))
        # The whole stream once (buildkit), counted and sampled: the data
        # between samples goes to /dev/null by splice.
        rng = random.Random(64)
        samples = sorted({0, size // 2 - (1 << 19), size - (1 << 20)} |
                         {rng.randrange(0, size - (1 << 16)) & ~4095 for _ in range(6)})

        def whole(rd):
            found = {}
            zeros_ok = [True]

            def big(m, r):
                pos = 0
                for s in samples:
                    win = (1 << 20) if s in (0, size // 2 - (1 << 19), size - (1 << 20)) \
                        else (1 << 16)
                    if s < pos:
                        continue
                    r.skip(s - pos)
                    b = r.read(win)
                    pos = s + len(b)
                    for off, mk in marks.items():
                        if s <= off < s + len(b):
                            found[off] = b[off - s:off - s + len(mk)]
                            b = b[:off - s] + bytes(len(mk)) + b[off - s + len(mk):]
                    if b.count(0) != len(b):
                        zeros_ok[0] = False
                r.skip(size - pos)
            t = Tar(rd, keep=1 << 16, big=big)
            try:
                ms = [(m["name"], m["size"], m["data"]) for m in t]
            except (ValueError, IndexError) as e:
                ms = "unparsable: %s" % e
            return ms, found, zeros_ok[0], t.end
        res = run_stream(["pack", "."], whole, cwd=root, timeout=900)
        ms, found, zeros_ok, end = res.value
        note("sparse: the whole 64 GiB stream (pack | a splice counting sink) took %.1f s, "
             "%d bytes, peak RSS %.1f MiB" % (res.secs, res.out_bytes, res.rss_kb / 1024))
        # Dockerfile (header, a block of data), big's PAX header and its
        # record "20 size=68719476736\n" (a block), big's header and data,
        # zz-after (header, a block), the two end blocks
        want_len = 2 * 512 + 2 * 512 + 512 + size + 2 * 512 + 1024
        tap.check("sparse 64 GiB: the whole stream: exit 0, the members and the end blocks, "
                  "the marks at their offsets, zeros in every sampled window",
                  res.rc == 0 and end == "eof" and isinstance(ms, list) and
                  [(n, s) for n, s, _ in ms] == [(b"Dockerfile", 13), (b"big", size),
                                                 (b"zz-after", 18)] and
                  ms[2][2] == b"after the big one\n" and found == marks and zeros_ok and
                  res.out_bytes == want_len,
                  (res.rc, end, ms if not isinstance(ms, list) else
                   [(n, s) for n, s, _ in ms], found, zeros_ok, res.out_bytes, res.err))
    finally:
        rmtree(root)


# ---- 7. FIFOs ---------------------------------------------------------------------------

class FifoWatch:
    """Tries to open the FIFOs for writing without blocking, all the
    time: that succeeds only while someone holds them open for reading."""

    def __init__(self, paths):
        self.paths = paths
        self.opened = []
        self.stop = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stop:
            for p in self.paths:
                try:
                    fd = os.open(p, os.O_WRONLY | os.O_NONBLOCK)
                except OSError:
                    continue
                self.opened.append(p)
                os.close(fd)
            time.sleep(0.0005)

    def close(self):
        self.stop = True
        self.t.join()
        return self.opened


def tree_fifo():
    root = mkdtemp()
    wfile(os.path.join(root, "Dockerfile"), b"FROM scratch\n")
    os.mkdir(os.path.join(root, "sub"))
    fifos = [os.path.join(root, p) for p in ("pipe", "sub/p", ".env", "id_rsa", "z.log")]
    for f in fifos:
        os.mkfifo(f, 0o640)
    wfile(os.path.join(root, "sub", "after"), b"after the FIFO\n")
    # Other special files, never to be opened: a node of /dev/zero (it
    # would read forever), a block device, a socket.
    try:
        os.mknod(os.path.join(root, "zero"), 0o644 | stat.S_IFCHR, os.makedev(1, 5))
        os.mknod(os.path.join(root, "sub", "blk"), 0o600 | stat.S_IFBLK, os.makedev(7, 200))
        devices = True
    except OSError as e:        # not root, or no CAP_MKNOD
        devices = False
        nodev = str(e)
    import socket
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.path.join(root, "sock"))
    watch = FifoWatch(fifos)
    try:
        for builder in BUILDERS:
            for extra in ([], ["-j", "8"]):
                rc, out, err = run(["pack", "--builder=" + builder] + extra + ["."], cwd=root,
                                   timeout=30)
                members, end = parse(out)
                check_archive_fs("FIFOs and devices (%s%s): exit 0 without blocking, FIFO members "
                                 "(type 6), device members (3, 4, their numbers), the socket as "
                                 "BuildKit / the classic builder send it"
                                 % (builder, " -j 8" if extra else ""), root, builder, members,
                                 end)
                if rc != 0:
                    note("FIFOs: exit %s: %r" % (rc, err))
        for cmd in (["digest", "--no-cache"], ["digest"], ["manifest"], ["stats"],
                    ["stats", "--duplicates"], ["lint"], ["ls", "-l"],
                    ["pack", "--compress=zstd"], ["check-ignore", "pipe", "zero"]):
            rc, out, err = run(cmd + (["."] if cmd[0] != "check-ignore" else []), cwd=root,
                               timeout=30)
            tap.check("FIFOs and devices: ctxpack %s does not block (exit %s)"
                      % (" ".join(cmd), rc),
                      rc in (0, 1) and rc != "timeout" and
                      (rc == 0 or cmd[0] in ("lint", "check-ignore")), (rc, err[-500:]))
    finally:
        opened = watch.close()
        sock.close()
    tap.check("FIFOs: no run ever opened a FIFO for reading", not opened, opened[:5])
    if not devices:
        tap.skip("device nodes", "mknod: %s" % nodev)
    # A FIFO or a device where an ignore file is read: refused, never read.
    kinds = [("a FIFO", lambda p: os.mkfifo(p))]
    if devices:
        kinds.append(("a node of /dev/zero",
                      lambda p: os.mknod(p, 0o644 | stat.S_IFCHR, os.makedev(1, 5))))
    for what, make in kinds:
        for name in (".dockerignore", "Dockerfile.dockerignore"):
            ign = os.path.join(root, name)
            make(ign)
            for builder in BUILDERS:
                if name != ".dockerignore" and builder == "classic":
                    continue
                rc, out, err = run(["pack", "--builder=" + builder, "."], cwd=root, timeout=10)
                tap.check("%s is %s (%s): no blocking; exit 1 naming it, nothing on stdout"
                          % (name, what, builder), rc == 1 and name.encode() in err
                          and out == b"", (rc, err, len(out)))
            for cmd in (["ls"], ["digest"], ["stats"], ["lint"]):
                rc, out, err = run(cmd + ["."], cwd=root, timeout=10)
                tap.check("%s is %s: ctxpack %s does not block (exit %s)" % (name, what, cmd[0],
                                                                            rc),
                          rc != "timeout" and rc != 0 and name.encode() in err, (rc, err))
            os.unlink(ign)
    # The classic CLI follows a .dockerignore symlink (BuildKit resolves it
    # inside the context): one to /dev/zero is refused, not read forever.
    ign = os.path.join(root, ".dockerignore")
    os.symlink("/dev/zero", ign)
    rc, out, err = run(["pack", "--builder=classic", "."], cwd=root, timeout=20)
    tap.check("classic: .dockerignore -> /dev/zero: exit 1 naming it, not read forever",
              rc == 1 and b".dockerignore" in err and out == b"", (rc, err, len(out)))
    rc, out, err = run(["pack", "--builder=buildkit", "."], cwd=root, timeout=20)
    ms, end = parse(out)
    tap.check("buildkit: .dockerignore -> /dev/zero resolves inside the context (absent): "
              "no rules, the link is a member", rc == 0 and end == "eof" and
              (b".dockerignore", "2", b"/dev/zero") in [(m["name"], m["type"], m["linkname"])
                                                         for m in ms], (rc, err, end))
    os.unlink(ign)
    rmtree(root)


# ---- 8. as another user ---------------------------------------------------------------

def tree_nobody():
    setpriv = shutil.which("setpriv")
    name = "as uid %d" % NOBODY
    if os.geteuid() != 0:
        tap.skip(name, "needs root to switch users")
        return
    if not setpriv:
        tap.skip(name, "setpriv(1) not installed")
        return
    prefix = [setpriv, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--"]
    rc, out, err = run(["--version"], prefix=prefix)
    if rc != 0:
        tap.skip(name, "uid %d cannot run %s (%s %r)" % (NOBODY, CTXPACK, rc, err))
        return

    def ctx(files, ignore=None):
        d = mkdtemp()
        wfile(os.path.join(d, "Dockerfile"), b"FROM scratch\n")
        for p, data in files.items():
            full = os.path.join(d, p)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            wfile(full, data)
        if ignore is not None:
            wfile(os.path.join(d, ".dockerignore"), ignore)
        return d

    def pack(d, builder, cmd="pack"):
        args = [cmd, "--builder=" + builder] + (["--no-cache"] if cmd == "digest" else []) + ["."]
        return run(args, cwd=d, prefix=prefix, timeout=60)

    cases = [
        # (label, files, chmods, ignore, {builder: expected}), expected: a
        # list of member names (exit 0) or ("fail", bytes the message names)
        ("a file without read permission, sent",
         {"ok": b"ok", "sub/secret": b"secret"}, {"sub/secret": 0o600}, None,
         {"buildkit": ("fail", b"sub/secret"), "classic": ("fail", b"sub/secret")}),
        ("the same file, excluded",
         {"ok": b"ok", "sub/secret": b"secret"}, {"sub/secret": 0o600}, b"sub/secret\n",
         {"buildkit": [b".dockerignore", b"Dockerfile", b"ok", b"sub/"],
          "classic": [b".dockerignore", b"Dockerfile", b"ok", b"sub/"]}),
        ("a directory without search permission (r--), sent",
         {"ok": b"ok", "ns/f": b"f", "ns/in/g": b"g"}, {"ns": 0o644}, None,
         {"buildkit": ("fail", b"ns/"), "classic": ("fail", b"ns/")}),
        ("the same directory, excluded",
         {"ok": b"ok", "ns/f": b"f", "ns/in/g": b"g"}, {"ns": 0o644}, b"ns\n",
         {"buildkit": [b".dockerignore", b"Dockerfile", b"ok"],
          "classic": [b".dockerignore", b"Dockerfile", b"ok"]}),
        ("a directory without any permission (---), sent",
         {"ok": b"ok", "nx/f": b"f"}, {"nx": 0o000}, None,
         {"buildkit": ("fail", b"nx"), "classic": ("fail", b"nx")}),
        # docs/observed-semantics.md: the classic CLI's validation walk
        # reads excluded directories too (a26-unsearchable-dir-*).
        ("the same directory, excluded",
         {"ok": b"ok", "nx/f": b"f"}, {"nx": 0o000}, b"nx\n",
         {"buildkit": [b".dockerignore", b"Dockerfile", b"ok"], "classic": ("fail", b"nx")}),
        ("an excluded unsearchable directory with an exception below it",
         {"ok": b"ok", "ns/f": b"f", "ns/keep": b"k"}, {"ns": 0o644}, b"ns\n!ns/keep\n",
         {"buildkit": ("fail", b"ns/"), "classic": ("fail", b"ns/")}),
        ("an unreadable file deep down, sent",
         {"a/b/c/d/e/f": b"f", "a/b/c/d/e/g": b"g"}, {"a/b/c/d/e/g": 0o000}, None,
         {"buildkit": ("fail", b"a/b/c/d/e/g"), "classic": ("fail", b"a/b/c/d/e/g")}),
    ]
    for label, files, chmods, ignore, expect in cases:
        d = ctx(files, ignore)
        for p, mode in chmods.items():
            os.chmod(os.path.join(d, p), mode)
        for builder in BUILDERS:
            exp = expect[builder]
            rc, out, err = pack(d, builder)
            if isinstance(exp, tuple):
                bad, end = ended_badly(out)
                tap.check("uid %d, %s (%s): exit 1 naming '%s', the output not a complete archive"
                          % (NOBODY, label, builder, exp[1].decode()),
                          rc == 1 and exp[1] in err and bad and err.count(b"\n") == 1,
                          (rc, err, end))
                rc2, out2, err2 = pack(d, builder, "digest")
                tap.check("uid %d, %s (%s): digest fails too, naming it" % (NOBODY, label, builder),
                          rc2 == 1 and exp[1] in err2 and not out2, (rc2, out2, err2))
            else:
                ms, end = parse(out)
                names = [m["name"] for m in ms]
                tap.check("uid %d, %s (%s): exit 0 with %s" % (
                    NOBODY, label, builder, b" ".join(exp).decode()),
                    rc == 0 and end == "eof" and names == exp, (rc, names, end, err))
        for p in chmods:
            os.chmod(os.path.join(d, p), 0o755)
        rmtree(d)


# ---- 9. few descriptors ----------------------------------------------------------------

def limit_fds(n=32):
    def f():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return f


def tree_ulimit():
    root = mkdtemp()
    wfile(os.path.join(root, "Dockerfile"), b"FROM scratch\n")
    rng = random.Random(32)
    nfiles = 0
    for i in range(300):
        base = os.path.join(root, "d%03d" % i)
        leaf = os.path.join(base, "s%d" % (i % 7), "t%d" % (i % 3), "u")
        os.makedirs(leaf)
        for j in range(10):
            where = [base, os.path.dirname(leaf), leaf][j % 3]
            data = (b"%d/%d " % (i, j)) * rng.randrange(1, 200)
            wfile(os.path.join(where, "f%d" % j), data)
            nfiles += 1
        if i % 50 == 0:      # some large files (not read ahead), some links
            wfile(os.path.join(base, "large"), bytes(rng.getrandbits(8) for _ in range(4096))
                  * 200)
            os.link(os.path.join(base, "f0"), os.path.join(root, "link%03d" % i))
            os.symlink("../d%03d/f1" % i, os.path.join(leaf, "sym"))
            nfiles += 2
    # a chain deeper than the descriptor limit
    chain = os.path.join(root, "chain", *(["c"] * 60))
    os.makedirs(chain)
    wfile(os.path.join(chain, "end"), b"end of the chain\n")
    note("ulimit: %d files in %d directories" % (nfiles, 300 * 4 + 61))
    try:
        for builder in BUILDERS:
            rc, free, err = run(["pack", "--builder=" + builder, "."], cwd=root)
            for j in ("1", "8"):
                rc, out, err = run(["pack", "--builder=" + builder, "-j", j, "."], cwd=root,
                                   preexec_fn=limit_fds(32), timeout=300)
                members, end = parse(out)
                check_archive_fs("RLIMIT_NOFILE 32, -j %s (%s): exit 0, the whole tree" % (
                    j, builder), root, builder, members, end)
                tap.check("RLIMIT_NOFILE 32, -j %s (%s): the same bytes as without the limit"
                          % (j, builder), rc == 0 and out == free, (rc, len(out), len(free), err))
        rc, dfree, err = digest_dir(root, ["-j", "8"])
        for cmd in (["digest", "--no-cache", "-j", "8", "."], ["digest", "-j", "8", "."],
                    ["pack", "-j", "8", "--compress=zstd", "-o", os.path.join(mkdtemp(), "x.zst"),
                     "."], ["stats", "-j", "8", "--duplicates", "."], ["ls", "-l", "."],
                    ["manifest", "-j", "8", "."]):
            rc, out, err = run(cmd, cwd=root, preexec_fn=limit_fds(32), timeout=300)
            ok = rc == 0 and (cmd[0] != "digest" or out.strip() == dfree)
            tap.check("RLIMIT_NOFILE 32: ctxpack %s succeeds" % " ".join(cmd[:4]), ok,
                      (rc, out[:200], err))
        # Fewer descriptors still: a run either succeeds with the same bytes
        # or fails with a message and a cut stream, never anything else.
        refs = {b: run(["pack", "--builder=" + b, "."], cwd=root)[1] for b in BUILDERS}
        bad = []
        works = {}
        for n in (5, 6, 7, 8, 10, 12, 16, 20, 24):
            for j in ("1", "8"):
                for builder in BUILDERS:
                    for cmd in ("pack", "digest"):
                        args = [cmd, "--builder=" + builder, "-j", j, "."]
                        if cmd == "digest":
                            args.insert(1, "--no-cache")
                        rc, out, err = run(args, cwd=root, preexec_fn=limit_fds(n), timeout=120)
                        if rc == 0:
                            good = out == refs[builder] if cmd == "pack" else \
                                out.startswith(b"xxh3-128:") and (builder != "buildkit" or
                                                                  out.strip() == dfree)
                            works.setdefault((cmd, builder, j), n)
                        else:
                            good = rc == 1 and err.startswith(b"ctxpack: ") and (
                                cmd != "pack" or ended_badly(out)[0])
                        if not good:
                            bad.append((n, j, builder, cmd, rc, err[-200:]))
        note("RLIMIT_NOFILE sweep: the smallest limit that worked: " + ", ".join(
            "%s %s -j %s: %d" % (k[0], k[1], k[2], v) for k, v in sorted(works.items())))
        tap.check("RLIMIT_NOFILE 5..24, -j 1 and 8, pack and digest: the same bytes, or exit 1 "
                  "with a message and a cut stream", not bad, bad[:5])
        # -j 8 under a small limit runs on fewer threads: it works wherever
        # -j 1 does (one step of the sweep of slack for where the fewest
        # descriptors suffice only by the order threads happen to open them).
        steps = (5, 6, 7, 8, 10, 12, 16, 20, 24)
        late = [(k, works.get(k[:2] + ("8",)), v) for k, v in works.items() if k[2] == "1"
                and (k[:2] + ("8",) not in works or
                     steps.index(works[k[:2] + ("8",)]) > steps.index(v) + 1)]
        tap.check("RLIMIT_NOFILE: -j 8 needs no more descriptors than -j 1 (fewer threads)",
                  not late and works, late)
    finally:
        rmtree(root)


# ---- 10. trees that change during the walk -------------------------------------------

def pipe_full(fd):
    buf = fcntl.ioctl(fd, termios.FIONREAD, struct.pack("i", 0))
    return struct.unpack("i", buf)[0]


def held_pack(root, builder, mutate):
    """Packs root onto a pipe of one page that nobody reads until the
    archiver is blocked writing (pack has walked and is writing the first
    large member), then runs mutate(), then drains the pipe.  Returns
    (held, rc, out, err): held says the archiver was blocked."""
    rfd, wfd = os.pipe()
    try:
        fcntl.fcntl(wfd, F_SETPIPE_SZ, 4096)
    except OSError:
        pass
    cap = fcntl.fcntl(wfd, 1032)     # F_GETPIPE_SZ
    p = subprocess.Popen([CTXPACK, "pack", "--builder=" + builder, "."], cwd=root,
                         stdout=wfd, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=ENV)
    os.close(wfd)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and pipe_full(rfd) < cap and p.poll() is None:
        time.sleep(0.005)
    time.sleep(0.2)
    held = p.poll() is None and pipe_full(rfd) >= cap
    mutate()
    chunks = []
    timer = threading.Timer(60, p.kill)
    timer.start()
    while True:
        b = os.read(rfd, 1 << 20)
        if not b:
            break
        chunks.append(b)
    os.close(rfd)
    err = p.stderr.read()
    rc = p.wait()
    timer.cancel()
    return held, rc, b"".join(chunks), err


def midstream_cases():
    """The archiver is held on a full pipe inside a large first member,
    after the walk; then the tree changes under the members still to
    come; then the pipe is drained."""
    marker = os.urandom(32)
    big = 600 << 10     # above the read-ahead limit: opened by the archiver itself
    content = bytes(random.Random(7).getrandbits(8) for _ in range(4096)) * (big // 4096)

    def setup():
        root = mkdtemp()
        outside = make_outside(marker)
        wfile(os.path.join(root, "Dockerfile"), b"FROM scratch\n")
        fd = os.open(os.path.join(root, "a-filler"), os.O_CREAT | os.O_WRONLY, 0o644)
        os.ftruncate(fd, 64 << 20)
        os.close(fd)
        os.mkdir(os.path.join(root, "zz"))
        wfile(os.path.join(root, "zz", "big1"), content)
        wfile(os.path.join(root, "zz-file"), content)
        # outside: same names, same sizes, the canary as content
        od = os.path.join(outside, "zzdir")
        os.mkdir(od)
        wfile(os.path.join(od, "big1"), (marker * (big // 32 + 1))[:big])
        wfile(os.path.join(outside, "zz-file"), (marker * (big // 32 + 1))[:big])
        return root, outside

    def j(root, *p):
        return os.path.join(root, *p)

    def append(path, data):
        with open(path, "ab") as f:
            f.write(data)

    new_same_size = bytes(b ^ 0x5a for b in content)
    cases = [
        ("zz/ swapped for a symlink to a directory outside", "zz",
         lambda r, o: (os.rename(j(r, "zz"), j(r, "zz.hold")),
                       os.symlink(j(o, "zzdir"), j(r, "zz"))), 1),
        ("zz/ swapped for a symlink to /", "zz",
         lambda r, o: (os.rename(j(r, "zz"), j(r, "zz.hold")), os.symlink("/", j(r, "zz"))), 1),
        ("zz/ swapped for another real directory (same names and sizes)", "zz",
         lambda r, o: (os.rename(j(r, "zz"), j(o, "zz.gone")),
                       os.rename(j(o, "zzdir"), j(r, "zz"))), 1),
        ("a file truncated", "zz-file", lambda r, o: os.truncate(j(r, "zz-file"), 1000), 1),
        ("a file extended", "zz-file", lambda r, o: append(j(r, "zz-file"), b"more"), 1),
        ("a file replaced (rename over, same size)", "zz-file",
         lambda r, o: (wfile(j(r, ".tmp"), new_same_size), os.rename(j(r, ".tmp"),
                                                                     j(r, "zz-file"))), 1),
        ("a file deleted", "zz-file", lambda r, o: os.unlink(j(r, "zz-file")), 1),
        ("a file swapped for a symlink to the outside canary", "zz-file",
         lambda r, o: (os.unlink(j(r, "zz-file")),
                       os.symlink(j(o, "zz-file"), j(r, "zz-file"))), 1),
        ("a file swapped for a FIFO", "zz-file",
         lambda r, o: (os.unlink(j(r, "zz-file")), os.mkfifo(j(r, "zz-file"))), 1),
        # the walk's mtime and ctime no longer hold: the member would pair
        # the walked header with other bytes
        ("a file rewritten in place, same size", "zz-file",
         lambda r, o: (lambda fd: (os.pwrite(fd, new_same_size, 0), os.close(fd)))(
             os.open(j(r, "zz-file"), os.O_WRONLY)), 1),
    ]
    for label, path, mutate, want_rc in cases:
        for builder in BUILDERS:
            root, outside = setup()
            held, rc, out, err = held_pack(root, builder, lambda: mutate(root, outside))
            members, end = parse(out, keep=1 << 30)
            leak = marker in out or marker in err
            if want_rc == 1:
                tap.check("mid-stream, %s (%s): exit 1 naming '%s', output cut, no outside byte"
                          % (label, builder, path), held and rc == 1 and path.encode() in err
                          and not end.startswith("eof") and not leak,
                          (held, rc, err, end, leak, [m["name"] for m in members]))
            else:
                zf = [m for m in members if m["name"] == b"zz-file"]
                tap.check("mid-stream, %s (%s): exit 0, the content read is the new one"
                          % (label, builder), held and rc == 0 and end == "eof" and
                          len(zf) == 1 and zf[0]["data"] == new_same_size and not leak,
                          (held, rc, err, end))
            for d in (root, outside):
                rmtree(d)

    # Held inside the file itself, while it is being read.
    size = 16 << 20
    data = bytes(random.Random(16).getrandbits(8) for _ in range(1 << 16)) * (size >> 16)
    inside = [
        ("truncated to nothing", lambda p: os.truncate(p, 0), (1,)),
        ("truncated to half", lambda p: os.truncate(p, size // 2), (1,)),
        # the same size at the end, but the times moved: found after the last byte
        ("truncated, then extended back to its size (a hole)",
         lambda p: (os.truncate(p, 4096), os.truncate(p, size)), (1,)),
        ("extended", lambda p: append(p, b"x" * 4096), (1,)),
        ("replaced (rename over)", lambda p: (wfile(p + ".new", b"new"), os.rename(p + ".new", p)),
         (0, 1)),
        ("deleted", lambda p: os.unlink(p), (0, 1)),
    ]
    for label, mutate, allowed in inside:
        for builder in BUILDERS:
            root = mkdtemp()
            wfile(os.path.join(root, "Dockerfile"), b"FROM scratch\n")
            path = os.path.join(root, "a-file")
            wfile(path, data)
            wfile(os.path.join(root, "b-after"), b"after\n")
            held, rc, out, err = held_pack(root, builder, lambda: mutate(path))
            members, end = parse(out, keep=1 << 30)
            af = [m for m in members if m["name"] == b"a-file"]
            if rc == 0:
                ok = end == "eof" and len(af) == 1 and (
                    af[0]["data"] == data or (allowed == (1, 0) and
                                              af[0]["data"] == data[:4096] + bytes(size - 4096)))
            else:
                ok = rc == 1 and b"a-file" in err and not end.startswith("eof")
            tap.check("while being read, a file %s (%s): %s" % (
                label, builder, "exit 1 naming it, the output cut" if allowed == (1,) else
                "exit 1 naming it, or exit 0 with a content it had"),
                held and rc in allowed and ok, (held, rc, err, end, [m["name"] for m in members]))
            note("while being read, a file %s (%s): exit %s %s" % (label, builder, rc,
                                                                   err.decode(errors="replace")
                                                                   .strip()))
            rmtree(root)


class Mutator(threading.Thread):
    """Changes the tree all the time, recording first every content, link
    target and type each path is given."""

    def __init__(self, root, outside, marker, seed):
        super().__init__(daemon=True)
        self.root = root
        self.outside = outside
        self.rng = random.Random(seed)
        self.stop = False
        self.ops = collections.Counter()
        self.contents = collections.defaultdict(set)   # path -> contents it had
        self.targets = collections.defaultdict(set)    # path -> symlink targets it had
        self.fifos = set()
        self.dirs = {"m", "s", "swap", "swap.away", "swap/sub", "swap.away/sub", "d2",
                     "d2.away"}
        self.current = {}
        self.serial = 0
        self.error = None

    def p(self, rel):
        return os.path.join(self.root, rel)

    @staticmethod
    def written(before, after):
        """The contents a file has while one write(2) extends before to
        after: the kernel copies a write a page at a time and moves the
        size after each page, mtime and ctime already set at its start, so
        a stat, a read and another stat can all meet the file cut at a page
        boundary (the likely cause of this check's one failure in CI, on
        a loaded machine).  No reader can tell such a moment from a
        finished write: each is a content the file had."""
        first = (len(before) // PAGE + 1) * PAGE
        return {after[:n] for n in range(first, len(after), PAGE)} | {after}

    def fresh(self, tag):
        self.serial += 1
        return (b"%s v%d " % (tag.encode(), self.serial)) * self.rng.randrange(1, 400)

    def write_new(self, rel, data):
        """Creates rel with data atomically (a temporary name, then rename)."""
        tmp = "m/.tmp%d" % self.serial
        self.contents[tmp].update({b""} | self.written(b"", data))
        self.contents[rel].add(data)
        wfile(self.p(tmp), data)
        os.rename(self.p(tmp), self.p(rel))
        self.current[rel] = data

    def run(self):
        try:
            while not self.stop:
                self.step()
                time.sleep(self.rng.random() * 0.001)
        except Exception as e:      # noqa: BLE001: reported as a failed check
            self.error = repr(e)

    def pause(self):
        time.sleep(self.rng.random() * 0.003)

    def step(self):
        rng = self.rng
        rel = "m/f%02d" % rng.randrange(20)
        cur = self.current[rel]
        op = rng.choice(["truncate", "extend", "replace", "delete", "symlink-out", "fifo",
                         "swapdir", "rootdir", "truncate", "extend", "replace"])
        self.ops[op] += 1
        if op == "truncate":
            n = rng.randrange(0, len(cur) + 1)
            self.contents[rel].add(cur[:n])
            self.current[rel] = cur[:n]
            os.truncate(self.p(rel), n)
        elif op == "extend":
            add = self.fresh("ext")[:rng.randrange(1, 4000)]
            self.contents[rel].update(self.written(cur, cur + add))
            self.current[rel] = cur + add
            fd = os.open(self.p(rel), os.O_WRONLY | os.O_APPEND)
            os.write(fd, add)
            os.close(fd)
        elif op == "replace":
            self.write_new(rel, self.fresh(rel))
        elif op == "delete":
            os.unlink(self.p(rel))
            self.pause()
            self.write_new(rel, self.fresh(rel))
        elif op in ("symlink-out", "fifo"):
            hold = rel + ".hold"
            self.contents[hold].add(cur)
            os.rename(self.p(rel), self.p(hold))
            if op == "fifo":
                self.fifos.add(rel)
                os.mkfifo(self.p(rel))
            else:
                target = os.path.join(self.outside, "canary-file")
                self.targets[rel].add(target.encode())
                os.symlink(target, self.p(rel))
            self.pause()
            os.unlink(self.p(rel))
            os.rename(self.p(hold), self.p(rel))
        elif op in ("swapdir", "rootdir"):
            d = "swap" if op == "swapdir" else "d2"
            target = self.outside if op == "swapdir" else "/"
            self.targets[d].add(target.encode())
            os.rename(self.p(d), self.p(d + ".away"))
            os.symlink(target, self.p(d))
            self.pause()
            os.unlink(self.p(d))
            os.rename(self.p(d + ".away"), self.p(d))


def check_mutated(m, stable, members):
    """Problems of an archive packed while m changed the tree."""
    bad = []
    names = set()
    for x in members:
        name = x["name"].decode("utf-8", "surrogateescape")
        typ = x["type"]
        path = name.rstrip("/")
        names.add(path)
        alias = path.replace("swap.away/", "swap/", 1).replace("d2.away/", "d2/", 1)
        if typ == "5":
            ok = path in m.dirs
        elif typ == "0":
            if path in stable:
                ok = x["data"] == stable[path]
            else:
                ok = x["data"] in m.contents.get(path, ()) or x["data"] in m.contents.get(
                    alias, ())
        elif typ == "2":
            ok = x["linkname"] in m.targets.get(path, ())
        elif typ == "6":
            ok = path in m.fifos
        else:
            ok = False
        if not ok:
            bad.append((name, typ, x["size"], (x["data"] or b"")[:40], x["linkname"]))
    missing = sorted(p for p in stable if p not in names)
    return bad, missing


def tree_mutating(iterations=1500):
    midstream_cases()
    marker = os.urandom(32)
    outside = make_outside(marker)
    # the outside directory looks like swap/: same names, the canary inside
    os.mkdir(os.path.join(outside, "sub"))
    root = mkdtemp()
    stable = {"Dockerfile": b"FROM scratch\n"}
    for i in range(60):
        stable["s/f%02d" % i] = b"stable %d\n" % i * (i + 1)
    for i in range(8):
        stable["swap/f%d" % i] = b"swap %d\n" % i * (50 * i + 1)
        stable["swap/sub/g%d" % i] = b"swap sub %d\n" % i
        stable["d2/h%d" % i] = b"d2 %d\n" % i
    for p, data in stable.items():
        os.makedirs(os.path.dirname(os.path.join(root, p)), exist_ok=True)
        wfile(os.path.join(root, p), data)
        if p.startswith("swap/"):
            wfile(os.path.join(outside, p[5:]), (marker * 1000)[:len(data)])
    os.mkdir(os.path.join(root, "m"))
    m = Mutator(root, outside, marker, seed=1234)
    for i in range(20):
        rel = "m/f%02d" % i
        m.write_new(rel, m.fresh(rel))
    # swap/ and d2/ move: their files are stable only where they stay
    for p in list(stable):
        if p.startswith(("swap/", "d2/")):
            m.contents[p].add(stable.pop(p))
    outcomes = collections.Counter()
    reasons = collections.Counter()
    problems = []
    t0 = time.monotonic()
    m.start()
    try:
        for it in range(iterations):
            builder = BUILDERS[it % 2]
            jobs = ("1", "2", "8")[it % 3]
            cmd = ["pack", "--builder=" + builder, "-j", jobs, "."]
            if it % 10 == 9:
                cmd = ["digest", "--no-cache", "--builder=" + builder, "-j", jobs, "."]
            rc, out, err = run(cmd, cwd=root, timeout=60)
            leak = marker in out or marker in err
            outcomes["%s exit %s" % (cmd[0], rc)] += 1
            if rc == 1:
                msg = err.decode("utf-8", "replace").strip()
                reasons[re.sub(r"\d+", "N", " ".join(msg.split("'")[0::2]))[:70]] += 1
            if rc == 0 and cmd[0] == "pack":
                members, end = parse(out)
                bad, missing = check_mutated(m, stable, members)
                if end != "eof" or bad or missing or leak:
                    problems.append((it, builder, jobs, end, bad[:3], missing[:3], leak))
            elif rc == 0:
                if leak or not out.startswith(b"xxh3-128:"):
                    problems.append((it, cmd, out, err, leak))
            elif rc == 1:
                cut, end = ended_badly(out) if cmd[0] == "pack" else (True, "")
                if leak or not err.startswith(b"ctxpack: ") or not cut:
                    problems.append((it, builder, jobs, rc, err, end, leak))
            else:
                problems.append((it, cmd, rc, err[-300:], leak))
    finally:
        m.stop = True
        m.join()
    secs = time.monotonic() - t0
    note("changing tree: %d runs in %.1f s while the tree changed %d times (%s)" % (
        iterations, secs, sum(m.ops.values()), ", ".join("%s %d" % kv for kv in
                                                          sorted(m.ops.items()))))
    note("changing tree: outcomes: " + ", ".join("%s: %d" % kv for kv in sorted(
        outcomes.items())))
    for r, n in reasons.most_common(12):
        note("  exit 1 x%d: %s" % (n, r))
    tap.check("changing tree: the mutator ran", m.error is None and sum(m.ops.values()) >
              iterations, (m.error, m.ops))
    tap.check("changing tree: %d runs, each a valid archive of contents the files had, or "
              "exit 1 with a message; never a crash or hang; never a byte from outside"
              % iterations, not problems, problems[:5])
    tap.check("changing tree: both outcomes happened (exit 0 and exit 1)",
              any(k.startswith("pack exit 0") for k in outcomes) and
              any(k.endswith("exit 1") for k in outcomes), outcomes)
    rmtree(root)
    rmtree(outside)


# ---- main -----------------------------------------------------------------------------

TREES = [
    (1, "1M files in one directory", tree_million),
    (2, "a 10,000-level chain", tree_deep),
    (3, "hostile names", tree_names),
    (4, "symlink loops and escapes", tree_symlinks),
    (5, "100,000 hard links", tree_hardlinks),
    (6, "a sparse 64 GiB file", tree_sparse),
    (7, "FIFOs and devices", tree_fifo),
    (8, "another user's permissions", tree_nobody),
    (9, "RLIMIT_NOFILE 32", tree_ulimit),
    (10, "trees changing during the walk", tree_mutating),
]


def main():
    for num, label, fn in TREES:
        if ONLY and num not in ONLY:
            continue
        if num in SKIP:
            note("tree %d: %s: not run here (HOSTILE_SKIP)" % (num, label))
            continue
        t0 = time.monotonic()
        note("tree %d: %s" % (num, label))
        try:
            fn()
        except Exception as e:       # noqa: BLE001: a broken test is a failed check
            import traceback
            tap.check("tree %d (%s) ran to its end" % (num, label), False,
                      traceback.format_exc())
        note("tree %d: %.1f s" % (num, time.monotonic() - t0))
    note("all trees: %.1f s" % (time.monotonic() - T_START))
    sys.exit(tap.finish())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""record.py: turn build-context case specs into recorded expectations.

    record.py --in SPECS.jsonl --out RECORDED.jsonl [-j N]
        Materialize every case, run the real docker CLI (classic builder)
        against fakeengine, and write each case back with "expect" filled in.
    record.py --check RECORDED.jsonl [-j N]
        Re-run docker on every recorded case; report the cases whose result
        differs from the recording.  Exit 1 on any difference, 77 when the
        docker CLI is not installed.

The module also holds what the other oracle scripts share: the case format
(load/dump), materialize() to build a case's tree, parse_tar() and
run_case().

CASE FORMAT (JSON Lines, UTF-8, ensure_ascii).  Byte strings that may not
be UTF-8 (paths, link targets, .dockerignore, contents) are JSON strings
decoded with surrogateescape: a raw byte 0xff is "\\udcff".

  name         "<item>-<slug>", e.g. "a01-bang-is-not-negation"
  item         "A1".."A26" (DOCKER-SEMANTICS section A), "R" realistic,
               "M" multi-rule interaction
  note         free text (optional)
  tree         list of entries, created in order, relative to the context:
                 ["f", path, content, mode?]   regular file (mode "0644")
                 ["d", path, mode?]            directory (mode "0755")
                 ["l", path, target]           symlink
                 ["h", path, earlier_path]     hard link
               extensions (headers/types cases, need root to build):
                 ["p", path, mode?]            FIFO
                 ["c"|"b", path, major, minor] char / block device
                 ["s", path]                   unix socket
                 ["x", path, name, value]      set an xattr on path
                 ["o", path, uid, gid, mode?]  chown (then chmod) path
               Missing parent directories are created (0755).  Directory
               modes are applied after all entries exist.  Every entry gets
               mtime MTIME_NS (or the case's "mtime_ns").
  outside      (optional) entries like tree, but created next to the
               context, under the case's temp dir (context = TMP/ctx, so
               "-f ../ext/Dockerfile" reaches TMP/ext/Dockerfile)
  dockerignore null (no file) or the exact bytes of .dockerignore
  ignorefiles  (optional) {path: content} of more ignore files (e.g.
               "Dockerfile.dockerignore"), written after the tree
  args         extra `docker build` arguments (default []); docker runs
               with cwd = the context dir
  user         (optional) uid to run docker as (needs root + setpriv)
  headers      (optional) true: also record per-member header details
  random       (optional) true: names in the result are random; other
               tools must not compare member for member
  expect       filled by the recorder:
                 {"members": [[name, typeflag], ...],   archive order
                  "dockerfile": the query's dockerfile= value,
                  "headers": [...], "end": "...",        (headers cases)
                  "tar_incomplete": true, "end": "...",  (docker exited 0
                                                          but the tar is
                                                          broken off)
                  "docker_log": ["error: ..."]}          (docker exited 0
                                                          but logged errors)
               or {"error": "first line of docker's stderr"} (paths of the
               temp dir replaced by <CTX> and <TMP>).
"""

import argparse
import concurrent.futures
import io
import json
import os
import re
import shutil
import socket
import stat
import sys
import tarfile
import tempfile
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
import fakeengine  # noqa: E402
from tap import remove_tree, scratch  # noqa: E402,F401: the tests' shared helpers

MTIME_NS = 1700000000123456789
EXIT_SKIP = 77
KEY_ORDER = ("name", "item", "note", "random", "user", "headers", "mtime_ns",
             "tree", "outside", "dockerignore", "args", "expect")


# -- case I/O -----------------------------------------------------------------

def b(s):
    """JSON string (surrogateescape) -> bytes."""
    return s.encode("utf-8", "surrogateescape")


def s(bs):
    """bytes -> JSON string (surrogateescape)."""
    return bs.decode("utf-8", "surrogateescape")


def load_cases(path):
    cases = []
    f = sys.stdin.buffer if path == "-" else open(path, "rb")
    with f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith(b"#"):
                continue
            try:
                cases.append(json.loads(line))
            except ValueError as e:
                raise SystemExit("%s:%d: bad JSON: %s" % (path, lineno, e))
    return cases


def dump_case(case):
    ordered = {k: case[k] for k in KEY_ORDER if k in case}
    ordered.update((k, v) for k, v in case.items() if k not in ordered)
    return json.dumps(ordered, ensure_ascii=True, separators=(", ", ": "))


def write_cases(path, cases):
    data = "".join(dump_case(c) + "\n" for c in cases)
    if path == "-":
        sys.stdout.write(data)
        return
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(data)
    os.replace(tmp, path)


# -- materializing a tree -----------------------------------------------------

class Unbuildable(Exception):
    """The tree cannot be built here (e.g. mknod as non-root)."""


def _mkparents(root, rel):
    parent = os.path.dirname(rel)
    if parent:
        os.makedirs(os.path.join(root, parent), mode=0o755, exist_ok=True)


def _mode(entry, idx, default):
    if len(entry) > idx and entry[idx] is not None:
        return int(entry[idx], 8)
    return default


def _make_entries(root, entries, dir_modes):
    for e in entries:
        kind, rel = e[0], b(e[1])
        p = os.path.join(root, rel)
        try:
            if kind == "d":
                os.makedirs(p, mode=0o755, exist_ok=True)
                dir_modes.append((p, _mode(e, 2, 0o755)))
                continue
            _mkparents(root, rel)
            if kind == "f":
                with open(p, "wb") as f:
                    f.write(b(e[2]))
                os.chmod(p, _mode(e, 3, 0o644))
            elif kind == "l":
                os.symlink(b(e[2]), p)
            elif kind == "h":
                os.link(os.path.join(root, b(e[2])), p, follow_symlinks=False)
            elif kind == "p":
                os.mkfifo(p)
                os.chmod(p, _mode(e, 2, 0o644))
            elif kind in ("c", "b"):
                fmt = stat.S_IFCHR if kind == "c" else stat.S_IFBLK
                os.mknod(p, fmt | _mode(e, 4, 0o644),
                         os.makedev(int(e[2]), int(e[3])))
            elif kind == "s":
                dfd = os.open(os.path.dirname(p) or b".", os.O_RDONLY)
                try:
                    sk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    sk.bind(b"/proc/self/fd/%d/%s"
                            % (dfd, os.path.basename(p)))
                    sk.close()
                finally:
                    os.close(dfd)
            elif kind == "x":
                os.setxattr(p, b(e[2]), b(e[3]), follow_symlinks=False)
            elif kind == "o":
                os.chown(p, int(e[2]), int(e[3]), follow_symlinks=False)
                if len(e) > 4 and e[4] is not None:
                    os.chmod(p, int(e[4], 8))    # chown drops setuid bits
            else:
                raise ValueError("unknown tree entry kind %r" % kind)
        except PermissionError as ex:
            raise Unbuildable("%s %s: %s" % (kind, e[1], ex))


def _set_times(root, ns):
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for n in filenames + dirnames:
            p = os.path.join(dirpath, n)
            try:
                os.utime(p, ns=(ns, ns), follow_symlinks=False)
            except OSError:
                pass
        os.utime(dirpath, ns=(ns, ns))


def materialize(case, tmp):
    """Build the case's tree under directory tmp; return the context dir
    (bytes).  The context is tmp/ctx; "outside" entries go under tmp."""
    tmp = os.fsencode(tmp)
    os.chmod(tmp, 0o755)
    ctx = os.path.join(tmp, b"ctx")
    os.mkdir(ctx, 0o755)
    dir_modes = []
    outside_modes = []
    _make_entries(tmp, case.get("outside", []), outside_modes)
    if case.get("dockerignore") is not None:
        di = os.path.join(ctx, b".dockerignore")
        with open(di, "wb") as f:
            f.write(b(case["dockerignore"]))
        os.chmod(di, 0o644)
    _make_entries(ctx, case.get("tree", []), dir_modes)
    for rel, content in sorted(case.get("ignorefiles", {}).items()):
        p = os.path.join(ctx, b(rel))
        _mkparents(ctx, b(rel))
        with open(p, "wb") as f:
            f.write(b(content))
        os.chmod(p, 0o644)
    ns = case.get("mtime_ns", MTIME_NS)
    _set_times(ctx, ns)
    for d in (os.path.join(tmp, os.fsencode(e[1]).split(b"/")[0])
              for e in case.get("outside", [])):
        if os.path.isdir(d) and not os.path.islink(d):
            _set_times(d, ns)
    # Last mode given for a directory wins; deepest directories first.
    modes = dict(dir_modes + outside_modes)
    for p in sorted(modes, key=lambda p: -p.count(b"/")):
        os.chmod(p, modes[p])
    os.chmod(ctx, 0o755)
    return ctx


def walk_paths(ctx):
    """Every path in the materialized tree, relative, as bytes, depth-first
    in bytewise order with a directory before its contents (a/ subtree
    before a.txt).  Symlinks are not followed.  Returns [(path, is_dir)]."""
    out = []

    def rec(absdir, reldir):
        try:
            names = sorted(os.listdir(absdir))
        except OSError:
            return
        for n in names:
            rel = reldir + n
            p = os.path.join(absdir, n)
            try:
                isdir = stat.S_ISDIR(os.lstat(p).st_mode)
            except OSError:         # e.g. in a dir we may list, not search
                isdir = False
            out.append((rel, isdir))
            if isdir:
                rec(p, rel + b"/")
    # Sorting each directory bytewise and recursing in that order gives
    # "a" < "a.txt" at the same level, and a's subtree comes between them.
    rec(os.fsencode(ctx), b"")
    return out


# -- reading the tar ----------------------------------------------------------

def _cstr(field):
    n = field.find(b"\0")
    return field if n < 0 else field[:n]


def _num(field):
    if field and field[0] & 0x80:            # base-256
        v = int.from_bytes(field, "big", signed=False)
        v &= (1 << (8 * len(field) - 1)) - 1
        if field[0] & 0x40:
            v -= 1 << (8 * len(field) - 1)
        return v
    t = _cstr(field).strip(b" \0")
    return int(t, 8) if t else 0


def _parse_pax(payload):
    recs = []
    pos = 0
    while pos < len(payload):
        sp = payload.index(b" ", pos)
        ln = int(payload[pos:sp])
        rec = payload[sp + 1:pos + ln - 1]      # without the newline
        k, _, v = rec.partition(b"=")
        recs.append((s(k), s(v)))
        pos += ln
    return recs


def parse_tar(data):
    """Parse a tar stream without normalising anything.

    Returns (members, end): members is a list of dicts with the header
    fields (name as in the archive, dirs keep their trailing '/'; name,
    linkname and size follow PAX path/linkpath/size records, the other
    fields are the raw ustar values, and "pax" lists the records); end is
    "eof" (two zero blocks), "eof1" (one), "none" (data stops on a header
    boundary without end blocks) or "short" (stops inside a header, member
    data or its padding); "eof" may be followed by "+N" extra bytes.
    """
    members = []
    pos = 0
    pax = []
    gnu_name = gnu_link = None
    zero = bytes(512)
    while True:
        if pos == len(data):
            return members, "none"
        if pos + 512 > len(data):
            return members, "short"
        blk = data[pos:pos + 512]
        if blk == zero:
            if data[pos + 512:pos + 1024] == zero:
                extra = len(data) - (pos + 1024)
                return members, "eof" + ("+%d" % extra if extra else "")
            return members, "eof1"
        chk = _num(blk[148:156])
        if chk != sum(blk[:148]) + 256 + sum(blk[156:]):
            raise ValueError("bad header checksum at offset %d" % pos)
        typ = chr(blk[156])
        size = _num(blk[124:136])
        magic = blk[257:263]
        body_end = pos + 512 + size
        padded_end = pos + 512 + (size + 511) // 512 * 512
        payload = data[pos + 512:body_end]
        if typ in "xXgLK":
            if len(payload) < size:
                return members, "short"
            if typ in "xX":
                pax = _parse_pax(payload)
            elif typ == "L":
                gnu_name = _cstr(payload)
            elif typ == "K":
                gnu_link = _cstr(payload)
            pos = padded_end
            continue
        name = _cstr(blk[0:100])
        if magic == b"ustar\x00" and _cstr(blk[345:500]):
            name = _cstr(blk[345:500]) + b"/" + name
        if gnu_name is not None:
            name = gnu_name
        link = _cstr(blk[157:257])
        if gnu_link is not None:
            link = gnu_link
        m = {"name": s(name), "type": typ,
             "mode": "%04o" % _num(blk[100:108]),
             "uid": _num(blk[108:116]), "gid": _num(blk[116:124]),
             "size": size, "mtime": _num(blk[136:148]),
             "linkname": s(link),
             "magic": s(magic + blk[263:265]),
             "uname": s(_cstr(blk[265:297])),
             "gname": s(_cstr(blk[297:329]))}
        if typ in "34":
            m["devmajor"] = _num(blk[329:337])
            m["devminor"] = _num(blk[337:345])
        if pax:
            m["pax"] = [[k, v] for k, v in pax]
            for k, v in pax:
                if k == "path":
                    m["name"] = v
                elif k == "linkpath":
                    m["linkname"] = v
                elif k == "size":
                    m["size"] = size = int(v)
                    body_end = pos + 512 + size
                    padded_end = pos + 512 + (size + 511) // 512 * 512
        if gnu_name is not None or gnu_link is not None:
            m["gnu_long"] = True
        pax, gnu_name, gnu_link = [], None, None
        members.append(m)
        if body_end > len(data):
            m["data_short"] = True
            return members, "short"
        if padded_end > len(data):
            return members, "short"
        pos = padded_end


def crosscheck_tarfile(data, members):
    """Python's tarfile must list the same members (it strips the '/' of
    directory names and turns some types into others; compare loosely)."""
    tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:",
                      encoding="utf-8", errors="surrogateescape")
    names = [ti.name for ti in tf.getmembers()]
    mine = [m["name"].rstrip("/") if m["type"] == "5" else m["name"]
            for m in members]
    if names != mine:
        raise ValueError("tarfile disagrees: %r vs %r" % (names, mine))


# -- running a case -----------------------------------------------------------

_DEPRECATION = re.compile(
    rb"^DEPRECATED: The legacy builder is deprecated.*?\n(?:[ \t]+\S.*\n)*\n*",
    re.M)
_HEX = re.compile(r"\.dockerfile\.[0-9a-f]{20}")


_LOGLINE = re.compile(rb'level=(error|warning|fatal) msg="((?:[^"\\]|\\.)*)"')


def _hide_tmp(line, ctx, tmp):
    for real in {os.path.realpath(ctx), ctx}:
        line = line.replace(real, b"<CTX>")
    for real in {os.path.realpath(tmp), tmp}:
        line = line.replace(real, b"<TMP>")
    return line


def first_error_line(stderr, ctx, tmp):
    err = _DEPRECATION.sub(b"", stderr, count=1)
    for line in err.splitlines():
        if line.strip():
            break
    else:
        line = b""
    return s(_hide_tmp(line, ctx, tmp).rstrip())


def docker_log(stderr, ctx, tmp):
    """Messages docker logged at level error/warning (e.g. 'Error matching
    x: syntax error in pattern' when it stops its walk but exits 0)."""
    return [s(_hide_tmp(m.group(1) + b": " + m.group(2), ctx, tmp))
            for m in _LOGLINE.finditer(stderr)]


def expect_from_result(case, res, ctx, tmp):
    if res.timed_out:
        return {"error": "timeout: docker build did not finish"}
    if res.returncode != 0:
        return {"error": first_error_line(res.stderr, ctx, tmp)}
    cap = res.capture
    if cap is None:
        return {"error": "docker exited 0 but sent no build context"}
    members, end = parse_tar(cap.body)
    exp = {"members": [[m["name"], m["type"]] for m in members]}
    log = docker_log(res.stderr, ctx, tmp)
    if log:
        exp["docker_log"] = log
    q = urllib.parse.parse_qs(cap.query, keep_blank_values=True)
    if "dockerfile" in q:
        exp["dockerfile"] = q["dockerfile"][0]
    if not cap.complete or not end.startswith("eof") or any(
            m.get("data_short") for m in members):
        exp["tar_incomplete"] = True
        exp["end"] = end
    elif not end.startswith("eof+"):
        crosscheck_tarfile(cap.body, members)
    if case.get("headers"):
        exp["headers"] = members
        exp["end"] = end
    return exp


def run_case(engine, case, keep=None):
    """Materialize `case`, run docker through `engine`, return the expect
    dict.  Raises Unbuildable when the tree cannot be built here."""
    tmp = tempfile.mkdtemp(prefix="ctxcase.")
    try:
        ctx = materialize(case, tmp)
        res = engine.docker_build(ctx, case.get("args", []),
                                  user=case.get("user"))
        return expect_from_result(case, res, ctx, os.fsencode(tmp))
    finally:
        if keep:
            shutil.copytree(tmp, keep, symlinks=True, dirs_exist_ok=True)
        remove_tree(tmp)


def normalize_random(exp):
    """For cases marked random: hide the generated name, compare the
    generated (last) entries as a set."""
    exp = json.loads(_HEX.sub(".dockerfile.<HEX>", json.dumps(exp)))
    if "members" in exp:
        exp["members"] = sorted(exp["members"])
        exp.pop("headers", None)
    return exp


class EnginePool:
    """One FakeEngine per worker thread."""

    def __init__(self):
        self._local = threading.local()
        self._all = []
        self._lock = threading.Lock()

    def get(self):
        eng = getattr(self._local, "engine", None)
        if eng is None:
            eng = fakeengine.FakeEngine().start()
            self._local.engine = eng
            with self._lock:
                self._all.append(eng)
        return eng

    def close(self):
        for eng in self._all:
            eng.stop()


def run_all(cases, jobs, fn):
    """Run fn(engine, case) over cases with `jobs` threads; return results
    in case order (exceptions are returned, not raised)."""
    pool = EnginePool()

    def one(c):
        try:
            return fn(pool.get(), c)
        except Exception as e:      # reported by the caller
            return e
    try:
        with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as ex:
            return list(ex.map(one, cases))
    finally:
        pool.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--in", dest="inp", help="case specs (JSON Lines)")
    ap.add_argument("--out", help="where to write the recorded cases")
    ap.add_argument("--check", metavar="RECORDED",
                    help="re-run docker and compare with the recording")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--only", help="regexp: only cases whose name matches")
    a = ap.parse_args(argv)
    if bool(a.check) == bool(a.inp):
        ap.error("give either --in SPECS --out FILE, or --check FILE")
    if a.inp and not a.out:
        ap.error("--in needs --out")
    if fakeengine.docker_cli() is None:
        sys.stderr.write("record.py: docker CLI not installed "
                         "(need /usr/local/bin/docker or docker on PATH)\n")
        return EXIT_SKIP
    cases = load_cases(a.check or a.inp)
    if a.only:
        cases = [c for c in cases if re.search(a.only, c["name"])]
    names = [c["name"] for c in cases]
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        sys.stderr.write("record.py: duplicate case names: %s\n"
                         % ", ".join(sorted(dups)))
        return 2
    results = run_all(cases, a.jobs, run_case)
    bad = 0
    if a.inp:
        out = []
        for c, r in zip(cases, results):
            if isinstance(r, Unbuildable):
                sys.stderr.write("record.py: %s: cannot build tree: %s\n"
                                 % (c["name"], r))
                bad += 1
                continue
            if isinstance(r, Exception):
                sys.stderr.write("record.py: %s: %s: %s\n"
                                 % (c["name"], type(r).__name__, r))
                bad += 1
                continue
            c = dict(c)
            c["expect"] = r
            out.append(c)
        write_cases(a.out, out)
        sys.stderr.write("record.py: recorded %d cases into %s%s\n"
                         % (len(out), a.out,
                            ", %d failed" % bad if bad else ""))
        return 1 if bad else 0
    for c, r in zip(cases, results):
        if isinstance(r, Exception):
            print("ERROR %s: %s: %s" % (c["name"], type(r).__name__, r))
            bad += 1
            continue
        old = c.get("expect")
        if c.get("random"):
            same = normalize_random(old or {}) == normalize_random(r)
        else:
            same = old == r
        if not same:
            bad += 1
            print("DIFF %s" % c["name"])
            print("  recorded: %s" % json.dumps(old, ensure_ascii=True))
            print("  now:      %s" % json.dumps(r, ensure_ascii=True))
    print("# %d cases, %d differ" % (len(cases), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""fuzz_docker.py: randomized differential run, ctxpack vs the docker CLI.

    fuzz_docker.py --ctxpack BIN --seed S --count N [--builder classic]
                   [--mode check-ignore|pack] [--keep-failures DIR]
                   [--index I] [-j N]

Case I of seed S is generated from random.Random("S:I") alone, so any case
can be replayed with --seed S --index I.  Each case is a small random tree
(a few directories deep; names from a small alphabet with '.', '-', '_',
upper case, a UTF-8 letter, sometimes an invalid byte, and names such as
a.txt, node_modules, build, keep; some symlinks) and a random .dockerignore
of 3-8 rules (paths from the tree, '*', '?', '**/', '/**', '**' inside a
name, '[a-c]', '[^a]', '[!a]', '!' exceptions, leading and trailing '/',
comments, blank lines).

Docker (classic builder, through fakeengine) builds the context; ctxpack
check-ignore judges every path of the tree, and the two must agree as in
check_vectors.py.  Prints `ok`/`not ok` lines, details for each failure (the
seed and index, the .dockerignore, the differing paths) and
`# N passed, N failed`.  Failing cases are written as spec lines (no
"expect") to DIR/fuzz-failures.jsonl with --keep-failures, ready for
record.py.  Exit 0 if all agree, 1 on a difference, 77 without docker.

--mode pack (the default is check-ignore) generates richer trees, case I
from random.Random("pack:S:I"): hard links (several names for one inode,
some of them excluded, also hard links to symlinks), dangling and live
symlinks, empty directories, non-UTF-8 names, names and paths longer than
100 bytes (up to 255-byte components, paths over 256 bytes), files of a
few KB of random bytes, modes 0600, 0644, 0755, 0444, setuid/setgid files,
0700/01777 directories, now and then another owner, FIFOs, character and
block devices, sockets, file capabilities and user xattrs, mtimes with
sub-second parts, before 1970 and after 2242, a Dockerfile named by -f
inside the context, and rarely a pattern Docker rejects (up front, or
lazily inside its walk).  Trees that cannot be built (devices and owners
need root) are reported as skipped.  Docker's tar (classic, through
fakeengine) and `ctxpack pack --builder=classic [-f F] .` (run in the
context directory, as check_pack.py does) are parsed with
record.parse_tar and compared member for member: name, type, every header
field (mode, uid, gid, size, mtime, linkname, magic, uname, gname,
devmajor/devminor, PAX records, GNU long names), a SHA-256 of each
member's data, and then the raw bytes of each header block.  ctxpack's
archive must end with exactly two zero blocks.  Where docker failed,
ctxpack must exit 1 with a message; where docker exited 0 but logged
"Error matching" (its walk stopped and the context is silently cut short)
or sent a broken-off tar, ctxpack must also exit 1.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_pack  # noqa: E402
import check_vectors  # noqa: E402
import fakeengine  # noqa: E402
import record  # noqa: E402

CHARS = "abc.-_Ax\u00e4"
SPECIAL = ["a.txt", "node_modules", "build", "keep", "src", "b.js", ".git",
           "a", "b", "x.pyc", "Docker", "a-b", "a.b", "A"]
INVALID = "\udcff"


# -- random trees -------------------------------------------------------------

def rand_name(rng):
    r = rng.random()
    if r < 0.45:
        return rng.choice(SPECIAL)
    n = "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.05:
        pos = rng.randint(0, len(n))
        n = n[:pos] + INVALID + n[pos:]
    if n in (".", ".."):
        n += "x"
    return n


def rand_tree(rng):
    """Return (entries, paths): tree entries and [(path, kind)]."""
    entries = [["f", "Dockerfile", "FROM scratch\n"]]
    kinds = {"Dockerfile": "f"}
    dirs = [""]
    for _ in range(rng.randint(6, 22)):
        parent = rng.choice(dirs)
        if parent.count("/") >= 3:
            parent = ""
        name = rand_name(rng)
        path = parent + name
        if path in kinds or path == ".dockerignore":
            continue
        r = rng.random()
        if r < 0.35 and path.count("/") < 3:
            entries.append(["d", path])
            kinds[path] = "d"
            dirs.append(path + "/")
        elif r < 0.42 and len(kinds) > 2:
            target = rng.choice(sorted(kinds))
            rel = "../" * path.count("/") + target
            if rng.random() < 0.3:
                rel = "nowhere"
            entries.append(["l", path, rel])
            kinds[path] = "l"
        else:
            entries.append(["f", path, "x"])
            kinds[path] = "f"
    return entries, kinds


# -- random .dockerignore -----------------------------------------------------

def mangle_component(rng, comp):
    r = rng.random()
    if r < 0.25:
        return "*"
    if r < 0.35 and comp:
        i = rng.randrange(len(comp))
        return comp[:i] + "?" + comp[i + 1:]
    if r < 0.45 and comp:
        i = rng.randrange(len(comp))
        return comp[:i] + "*"
    if r < 0.52 and comp:
        i = rng.randrange(len(comp))
        cls = rng.choice(["[a-c]", "[^a]", "[ab.]", "[A-Z]", "[^.]"])
        return comp[:i] + cls + comp[i + 1:]
    if r < 0.58 and comp:
        return "*" + comp[len(comp) // 2:]
    if r < 0.62 and comp:                   # '**' fast paths (item A5)
        i = rng.randrange(len(comp) + 1)
        return comp[:i] + "**" + comp[i:]
    if r < 0.65 and comp:                   # '[!a]' is not a negation
        i = rng.randrange(len(comp))
        return comp[:i] + "[!" + comp[i] + "]" + comp[i + 1:]
    return comp


def rand_rule(rng, kinds):
    r = rng.random()
    if r < 0.07:
        return rng.choice(["# comment", "#" + rand_name(rng), ""])
    if r < 0.15:
        body = rng.choice(["*", "**", "*.txt", "**/*.js", "**/keep", "?",
                           "*/", "**/build", "*/*", ".*", "node_modules",
                           "build/**", "**/a*", "[a-c]*", "[^a]*"])
    else:
        path = rng.choice(sorted(kinds))
        comps = path.split("/")
        if len(comps) > 1 and rng.random() < 0.3:
            comps = comps[:rng.randint(1, len(comps) - 1)]
        comps = [mangle_component(rng, c) if rng.random() < 0.4 else c
                 for c in comps]
        body = "/".join(comps)
        if rng.random() < 0.15:
            body = "**/" + body
        if rng.random() < 0.1:
            body += "/**"
        if rng.random() < 0.08:
            body += "/*"
    if rng.random() < 0.1:
        body = "/" + body
    if rng.random() < 0.1:
        body += "/"
    if rng.random() < 0.3:
        body = "!" + body
    if rng.random() < 0.05:
        body = " " + body + "\t"
    return body


def rand_case(seed, index, mode="check-ignore"):
    if mode == "pack":
        return rand_pack_case(seed, index)
    rng = random.Random("%s:%d" % (seed, index))
    entries, kinds = rand_tree(rng)
    rules = [rand_rule(rng, kinds) for _ in range(rng.randint(3, 8))]
    di = "".join(r + "\n" for r in rules)
    return {"name": "fuzz-s%s-%d" % (seed, index), "item": "F",
            "note": "fuzz_docker.py --seed %s --index %d" % (seed, index),
            "tree": entries, "dockerignore": di}


# -- random trees for --mode pack ---------------------------------------------

LONG_CHARS = "abcdefghijklmnop-_.0123456789\u00e4"
BAD_BYTES = ["\udcff", "\udc80", "\udcfe", "\udcc3"]   # never valid UTF-8
FILE_MODES = ["0644"] * 5 + ["0600", "0600", "0755", "0755", "0444",
                             "04755", "02755", "06755", "0700"]
DIR_MODES = ["0755"] * 6 + ["0700", "0775", "01777", "0555"]
BAD_RULES = ["[a-", "x[", "\\", "a\\e*", "!b\\e*", "\\e", "\\e", "*/\\e",
             "b\\d*"]


def _blen(name):
    return len(name.encode("utf-8", "surrogateescape"))


def long_name(rng, lo=60, hi=255):
    """A name of lo..hi bytes (sometimes exactly 255)."""
    want = 255 if rng.random() < 0.25 else rng.randint(lo, hi)
    out = ""
    while True:
        c = rng.choice(LONG_CHARS)
        if _blen(out + c) > want:
            break
        out += c
    while _blen(out) < want:            # fill up after a 2-byte letter
        out += "z"
    return out


def bad_utf8_name(rng):
    """A name with one byte that cannot start or be part of UTF-8 here;
    followed by ASCII, so two such bytes never join into a valid letter."""
    n = "".join(rng.choice("abcAx.-_") for _ in range(rng.randint(0, 4)))
    pos = rng.randint(0, len(n))
    n = n[:pos] + rng.choice(BAD_BYTES) + n[pos:]
    return n


def pack_name(rng):
    r = rng.random()
    if r < 0.07:
        return long_name(rng)
    if r < 0.13:
        return bad_utf8_name(rng)
    return rand_name(rng)


def random_content(rng):
    r = rng.random()
    if r < 0.15:
        return ""
    if r < 0.45:
        return rng.choice(["x", "hello\n", "FROM scratch\n", "\u00e4\n"])
    n = rng.randint(600, 8192)
    return record.s(bytes(rng.getrandbits(8) for _ in range(n)))


def rand_pack_tree(rng):
    """Return (entries, kinds, args)."""
    entries = []
    kinds = {}
    dirs = [""]
    nondirs = []              # paths a hard link may point at
    groups = []               # [paths] sharing one inode (2+ names)
    owners = []
    xattrs = []

    def add_file(path, content, mode="0644"):
        entries.append(["f", path, content, mode])
        kinds[path] = "f"
        nondirs.append(path)

    add_file("Dockerfile", "FROM scratch\n", rng.choice(["0644", "0600"]))
    for _ in range(rng.randint(8, 32)):
        parent = rng.choice(dirs)
        if parent.count("/") >= 4 or _blen(parent) > 700:
            parent = ""
        name = pack_name(rng)
        if name in (".", ".."):
            name += "x"
        path = parent + name
        if path in kinds or path == ".dockerignore":
            continue
        r = rng.random()
        if r < 0.22 and path.count("/") < 4:
            mode = rng.choice(DIR_MODES)
            entries.append(["d", path, mode])
            kinds[path] = "d"
            dirs.append(path + "/")
        elif r < 0.32:
            t = rng.random()
            if t < 0.45 and kinds:
                target = "../" * path.count("/") + rng.choice(sorted(kinds))
            elif t < 0.6:
                target = "nowhere"
            elif t < 0.7:
                target = "/etc/passwd"
            elif t < 0.85:
                target = long_name(rng, 101, 255) + "/" + long_name(rng)
            else:
                target = bad_utf8_name(rng)
            entries.append(["l", path, target])
            kinds[path] = "l"
            nondirs.append(path)
        elif r < 0.50 and nondirs:
            if groups and rng.random() < 0.5:
                g = rng.choice(groups)
            else:
                g = [rng.choice(nondirs)]
                groups.append(g)
            entries.append(["h", path, rng.choice(g)])
            g.append(path)
            kinds[path] = kinds[g[0]]
            nondirs.append(path)
        elif r < 0.53:
            # FIFOs, devices (devmajor/devminor), a socket (classic leaves
            # it out); building them needs root.
            k = rng.choice("ppccbs")
            if k == "s" and _blen(name) > 60:     # sun_path is 108 bytes
                k = "p"
            if k == "p":
                entries.append(["p", path, rng.choice(["0644", "0600"])])
            elif k in "cb":
                entries.append([k, path, rng.choice([1, 7, 8, 259, 4095]),
                                rng.choice([3, 0, 255, 256, 70000])])
            else:
                entries.append(["s", path])
            kinds[path] = k
        else:
            add_file(path, random_content(rng), rng.choice(FILE_MODES))
            if rng.random() < 0.08:
                owners.append(path)
            if rng.random() < 0.05:
                xattrs.append(path)
    # An empty directory or two, and a deep path over 256 bytes.
    for _ in range(rng.randint(0, 2)):
        path = rng.choice(dirs) + "empty" + rng.choice(["", "-d", "\u00e4"])
        if path not in kinds and path.count("/") <= 4:
            entries.append(["d", path, rng.choice(DIR_MODES)])
            kinds[path] = "d"
    if rng.random() < 0.2:
        path = "/".join(long_name(rng, 70, 120) for _ in range(3))
        add_file(path + "/f", random_content(rng), rng.choice(FILE_MODES))
        for i in range(1, 4):
            kinds.setdefault("/".join(path.split("/")[:i]), "d")
    for path in xattrs:
        if rng.random() < 0.6:     # file capabilities, VFS_CAP_REVISION_2
            caps = (b"\x01\x00\x00\x02" if rng.random() < 0.5
                    else b"\x00\x00\x00\x02")
            caps += rng.getrandbits(32).to_bytes(4, "little") + bytes(12)
            entries.append(["x", path, "security.capability", record.s(caps)])
        else:
            entries.append(["x", path, "user.fuzz", "v"])
    for path in owners:
        uid = rng.choice([1000, 65534, 4242])
        mode = next(e[3] for e in entries if e[0] == "f" and e[1] == path)
        entries.append(["o", path, uid, rng.choice([uid, 0, 100]), mode])
    args = []
    if rng.random() < 0.12:
        d = rng.choice(dirs)
        df = d + rng.choice(["Dockerfile", "Dockerfile.dev", "build.df"])
        if df not in kinds:
            add_file(df, "FROM scratch\nCOPY . /\n", rng.choice(["0644", "0600"]))
        if kinds.get(df) == "f":
            args = ["-f", df]
    return entries, kinds, args


def rand_pack_case(seed, index):
    rng = random.Random("pack:%s:%d" % (seed, index))
    entries, kinds, args = rand_pack_tree(rng)
    rules = [rand_rule(rng, kinds) for _ in range(rng.randint(2, 8))]
    r = rng.random()
    if r < 0.06:
        rules.insert(rng.randint(0, len(rules)), rng.choice(BAD_RULES))
    elif r < 0.09:
        # Docker evaluates an inclusion only for paths not yet excluded:
        # a bad one after "*" and an exception fails inside the walk.
        rules += ["*", "!" + rng.choice(sorted(kinds)),
                  rng.choice(["\\e", "x\\e*", "*/\\e", "[^a]\\e"])]
    di = None if rng.random() < 0.08 else "".join(r + "\n" for r in rules)
    case = {"name": "fuzz-pack-s%s-%d" % (seed, index), "item": "F",
            "note": "fuzz_docker.py --mode pack --seed %s --index %d"
                    % (seed, index),
            "tree": entries, "dockerignore": di}
    if rng.random() < 0.25:
        # sub-second parts (Go truncates), the end of the octal field,
        # PAX mtime records for times before 1970 or after 2242
        case["mtime_ns"] = rng.choice([
            1700000000999999999, 1700000000500000000, 0, 999999999,
            8589934591999999999, 8589934592000000000, 10 ** 19, -1,
            -1500000000, -10 ** 18, rng.randint(-2 ** 62, 2 ** 62)])
    if args:
        case["args"] = args
    return case


# -- comparing two tars byte for byte -----------------------------------------

def tar_layout(data):
    """Where each member of a tar stream lies: a list of (meta_start,
    header_start, data_start, data_end) in the order of record.parse_tar's
    members.  meta_start is the first PAX/GNU header block that belongs to
    the member (header_start when it has none); data is data[data_start:
    data_end] (the member's size, following a PAX size record).  Stops
    where record.parse_tar stops."""
    out = []
    pos = 0
    meta_start = None
    pax_size = None
    zero = bytes(512)
    while pos + 512 <= len(data):
        blk = data[pos:pos + 512]
        if blk == zero:
            break
        typ = chr(blk[156])
        size = record._num(blk[124:136])
        padded_end = pos + 512 + (size + 511) // 512 * 512
        if typ in "xXgLK":
            if meta_start is None:
                meta_start = pos
            if typ in "xX":
                for k, v in record._parse_pax(data[pos + 512:pos + 512 + size]):
                    if k == "size":
                        pax_size = int(v)
            pos = padded_end
            continue
        if pax_size is not None:
            size = pax_size
            padded_end = pos + 512 + (size + 511) // 512 * 512
        out.append((pos if meta_start is None else meta_start, pos,
                    pos + 512, min(pos + 512 + size, len(data))))
        meta_start = pax_size = None
        pos = padded_end
    return out


def describe_tar(data):
    """(members, end, layout) with a "sha256" of its data in each member."""
    members, end = record.parse_tar(data)
    layout = tar_layout(data)
    if len(layout) != len(members):
        raise ValueError("layout has %d members, parse_tar %d"
                         % (len(layout), len(members)))
    for m, (_, _, d0, d1) in zip(members, layout):
        m["sha256"] = hashlib.sha256(data[d0:d1]).hexdigest()[:16]
        m["data_len"] = d1 - d0
    return members, end, layout


def _show(v):
    return json.dumps(v, ensure_ascii=True)


def compare_tars(want_data, got_data):
    """Docker's tar vs ctxpack's: a list of differences (empty: equal)."""
    if want_data == got_data:
        return []
    problems = []
    try:
        want, wend, wlay = describe_tar(want_data)
    except ValueError as e:
        return ["docker's tar does not parse: %s" % e]
    try:
        got, gend, glay = describe_tar(got_data)
    except ValueError as e:
        return ["ctxpack's tar does not parse: %s" % e]
    if gend != "eof":
        problems.append("ctxpack's archive end is %r, not exactly two zero "
                        "blocks" % gend)
    wnames = [(m["name"], m["type"]) for m in want]
    gnames = [(m["name"], m["type"]) for m in got]
    if wnames != gnames:
        for i in range(max(len(wnames), len(gnames))):
            w = wnames[i] if i < len(wnames) else None
            g = gnames[i] if i < len(gnames) else None
            if w != g:
                problems.append("member %d: docker %s, ctxpack %s"
                                % (i, _show(w), _show(g)))
                if len(problems) >= 8:
                    break
        return problems
    for i, (w, g) in enumerate(zip(want, got)):
        keys = [k for k in w if k != "name"] + [k for k in g if k not in w]
        for k in keys:
            if w.get(k) != g.get(k):
                problems.append("%s: %s is %s in docker's tar, %s in "
                                "ctxpack's" % (_show(w["name"]), k,
                                               _show(w.get(k)),
                                               _show(g.get(k))))
        if len(problems) >= 12:
            return problems
    if problems:
        return problems
    # Same fields and data: the header blocks themselves must be equal.
    for w, g, (wm, _, wd, _), (gm, _, gd, _) in zip(want, got, wlay, glay):
        wh, gh = want_data[wm:wd], got_data[gm:gd]
        if wh != gh:
            off = next((j for j in range(min(len(wh), len(gh)))
                        if wh[j] != gh[j]), min(len(wh), len(gh)))
            problems.append("%s: header blocks differ at byte %d of %d/%d "
                            "(docker %s, ctxpack %s)"
                            % (_show(w["name"]), off, len(wh), len(gh),
                               _show(record.s(wh[max(0, off - 8):off + 8])),
                               _show(record.s(gh[max(0, off - 8):off + 8]))))
            if len(problems) >= 8:
                return problems
    if not problems:
        n = min(len(want_data), len(got_data))
        off = next((j for j in range(n) if want_data[j] != got_data[j]), n)
        problems.append("streams differ at byte %d (docker %d bytes, "
                        "ctxpack %d; ends %s / %s)"
                        % (off, len(want_data), len(got_data), wend, gend))
    return problems


# -- running ------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.docker_secs = 0.0
        self.docker_runs = 0


def run_one(args, case, pool, stats):
    """Return (status, detail, expect)."""
    with record.scratch("ctxfuzz.") as tmp:
        ctx = record.materialize(case, tmp)
        res = pool.get().docker_build(ctx, case.get("args", []))
        with stats.lock:
            stats.docker_secs += res.seconds
            stats.docker_runs += 1
        exp = record.expect_from_result(case, res, ctx, os.fsencode(tmp))
        paths = record.walk_paths(ctx)
        rc, out, err = check_vectors.run_ctxpack(
            args.ctxpack, args.builder, os.fsdecode(ctx), paths,
            check_vectors.dockerfile_arg(case.get("args", [])), None)
        if "error" in exp:
            if rc == 2:
                return "pass", [], exp
            return "fail", ["docker failed: %s" % exp["error"],
                            "ctxpack exited %s (expected 2)" % rc], exp
        if exp.get("tar_incomplete"):
            return "pass", ["docker's tar broke off; not compared"], exp
        c = dict(case, expect=exp)
        o = check_vectors.compare_members(c, args.builder, paths, rc, out,
                                          err)
        return o.status, o.detail, exp


def expect_error(exp):
    """Why docker's result means ctxpack must fail (None: it must not)."""
    if "error" in exp:
        return "docker failed: %s" % exp["error"]
    bad = [m for m in exp.get("docker_log", ()) if "Error matching" in m]
    if bad:
        return "docker logged %s and exited 0" % _show(bad[0])
    if exp.get("tar_incomplete"):
        return "docker's tar broke off (end %s)" % exp.get("end")
    return None


def run_one_pack(args, case, pool, stats):
    """--mode pack: docker's tar vs `ctxpack pack --builder=classic`."""
    with record.scratch("ctxfuzz.") as tmp:
        try:
            ctx = record.materialize(case, tmp)
        except record.Unbuildable as e:
            return "skip", ["cannot build the tree here: %s" % e], None
        res = pool.get().docker_build(ctx, case.get("args", []))
        with stats.lock:
            stats.docker_secs += res.seconds
            stats.docker_runs += 1
        exp = record.expect_from_result(case, res, ctx, os.fsencode(tmp))
        try:
            rc, out, err = check_pack.run_pack(
                args.ctxpack, "classic", ctx,
                check_vectors.dockerfile_arg(case.get("args", [])), None)
        except subprocess.TimeoutExpired:
            return "fail", ["ctxpack pack timed out"], exp
        msg = err.decode("utf-8", "replace").strip()
        why = expect_error(exp)
        if why:
            if rc == 1 and msg:
                return "pass", [], exp
            return "fail", [why, "ctxpack exited %s%s" % (
                rc, ": " + msg[:300] if msg else " without a message")], exp
        if rc != 0:
            return "fail", ["docker sent %d members; ctxpack exited %s: %s"
                            % (len(exp["members"]), rc, msg[:300])], exp
        problems = compare_tars(res.capture.body, out)
        if problems:
            return "fail", problems, exp
        return "pass", [], exp


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ctxpack", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--index", type=int, help="run only case INDEX")
    ap.add_argument("--builder", choices=("classic",), default="classic",
                    help="the docker oracle here is the classic builder")
    ap.add_argument("--mode", choices=("check-ignore", "pack"),
                    default="check-ignore",
                    help="compare check-ignore verdicts (default) or whole "
                         "`ctxpack pack` archives")
    ap.add_argument("--keep-failures", metavar="DIR")
    ap.add_argument("--print-cases", action="store_true",
                    help="only print the generated specs (JSON Lines)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    indexes = ([args.index] if args.index is not None
               else list(range(args.count)))
    cases = [rand_case(args.seed, i, args.mode) for i in indexes]
    if args.print_cases:
        for c in cases:
            print(record.dump_case(c))
        return 0
    if fakeengine.docker_cli() is None:
        sys.stderr.write("fuzz_docker.py: docker CLI not installed; "
                         "nothing to compare against\n")
        return 77
    if not os.access(args.ctxpack, os.X_OK):
        sys.stderr.write("fuzz_docker.py: cannot run %s\n" % args.ctxpack)
        return 2
    args.ctxpack = os.path.abspath(args.ctxpack)
    pool = record.EnginePool()
    stats = Stats()
    failures = []
    passed = skipped = 0
    t0 = time.monotonic()
    print("1..%d" % len(cases))

    runner = run_one_pack if args.mode == "pack" else run_one

    def one(c):
        try:
            return runner(args, c, pool, stats)
        except Exception as e:          # a driver problem: report it
            return "fail", ["driver error: %s: %s" % (type(e).__name__, e)], \
                None
    try:
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as ex:
            for n, (c, (status, detail, exp)) in enumerate(
                    zip(cases, ex.map(one, cases)), 1):
                if status == "pass":
                    passed += 1
                    print("ok %d - %s" % (n, c["name"]))
                elif status == "skip":
                    skipped += 1
                    print("ok %d - %s # SKIP %s" % (n, c["name"], detail[0]))
                else:
                    failures.append(c)
                    print("not ok %d - %s" % (n, c["name"]))
                    print("# seed %s index %d" % (args.seed,
                                                  indexes[n - 1]))
                    print("# .dockerignore: %s" % json.dumps(
                        c["dockerignore"], ensure_ascii=True))
                    if c.get("args"):
                        print("# docker build args: %s" % json.dumps(
                            c["args"], ensure_ascii=True))
                    for line in detail[:check_vectors.MAX_DETAIL]:
                        print("#   " + line)
                sys.stdout.flush()
    finally:
        pool.close()
    wall = time.monotonic() - t0
    if args.keep_failures and failures:
        os.makedirs(args.keep_failures, exist_ok=True)
        path = os.path.join(args.keep_failures, "fuzz-failures.jsonl")
        with open(path, "a", encoding="ascii") as f:
            for c in failures:
                f.write(record.dump_case(c) + "\n")
        print("# failing specs appended to %s" % path)
    if stats.docker_runs:
        print("# docker: %d runs, %.1f ms each on average; wall %.1f s "
              "with %d jobs" % (stats.docker_runs,
                                1000 * stats.docker_secs / stats.docker_runs,
                                wall, args.jobs))
    print("# %d passed, %d failed%s" % (passed, len(failures),
                                        ", %d skipped" % skipped
                                        if skipped else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

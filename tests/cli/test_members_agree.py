#!/usr/bin/env python3
"""test_members_agree.py: `ctxpack ls -l`, `ls --json`, `manifest --json`,
the library's entries (examples/libctxpack's `explain_pack -l`, which
lists ctxpack_context_entry) and the archive `pack` writes name the same
members in the same order, with the same types, modes, sizes and links:
all of them read the one member plan (pack.h: pack_plan).  The tree has
hard links, a symlink, a .dockerignore (or none) and a Dockerfile outside
the context, for both builders (TAP).

usage: test_members_agree.py CTXPACK EXPLAIN_PACK"""
import json
import os
import subprocess
import sys

import tap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
import record  # noqa: E402

EXE, EXAMPLE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TAR_TYPE = {"f": "0", "d": "5", "l": "2", "p": "6", "c": "3", "b": "4", "s": "0", "h": "1"}
MANIFEST_TYPE = {"file": "0", "dir": "5", "symlink": "2", "fifo": "6", "char": "3",
                 "block": "4", "hardlink": "1"}


def run(argv, cwd=None):
    p = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def long_lines(out, generated_mark):
    """(path, tar type, mode, size, link) per line of `ls -l` or
    `explain_pack -l` (whose hard links read '=>' and generated members
    end in '  (generated)')."""
    got = []
    for line in out.decode().splitlines():
        if generated_mark and line.endswith("  (generated)"):
            line = line[:-len("  (generated)")]
        t, mode, size, rest = line.split(None, 3)
        link = None
        for arrow in (" -> ", " => "):
            if arrow in rest:
                rest, link = rest.split(arrow, 1)
        got.append((rest.rstrip("/"), TAR_TYPE[t], int(mode, 8), int(size), link))
    return got


def tar_members(data):
    members, end = record.parse_tar(data)
    got = []
    for m in members:
        link = m["linkname"] if m["type"] in "12" else None
        got.append((m["name"].rstrip("/"), m["type"], int(m["mode"], 8) & 0o7777,
                    m["size"], link))
    return got, end


def main():
    for builder in ("buildkit", "classic"):
        for ignore in (None, b"*.log\n"):
            what = "%s, %s" % (builder, "a .dockerignore" if ignore else "no .dockerignore")
            top = tap.mkdtemp("ctxpack-agree-")
            ctx = os.path.join(top, "ctx")
            files = {"a": b"hello\n", "sub/z": b"zz\n", "x.log": b"left out\n",
                     "sub/deep/q": b"q\n"}
            for p, c in files.items():
                tap.write(ctx, p, c)
            if ignore is not None:
                tap.write(ctx, ".dockerignore", ignore)
            os.link(os.path.join(ctx, "a"), os.path.join(ctx, "sub", "b"))
            os.link(os.path.join(ctx, "a"), os.path.join(ctx, "sub", "deep", "c"))
            os.symlink("../a", os.path.join(ctx, "sub", "s"))
            tap.write(top, "ext/Dockerfile", b"FROM scratch\nCOPY . /\n")
            df = os.path.join(top, "ext", "Dockerfile")
            b = ["--builder=" + builder]
            rc1, tar, e1 = run([EXE, "pack"] + b + ["-f", df, ctx])
            rc2, ls, e2 = run([EXE, "ls", "-l"] + b + ["-f", df, ctx])
            rc3, lsj, e3 = run([EXE, "ls", "--json"] + b + ["-f", df, ctx])
            rc4, man, e4 = run([EXE, "manifest", "--json", "--no-cache"] + b + ["-f", df, ctx],
                               cwd=top)
            rc5, lib, e5 = run([EXAMPLE, "-l", "-b", builder, "-f", df, "-o",
                                os.path.join(top, "lib.tar"), ctx])
            ok = [rc1, rc2, rc3, rc4, rc5] == [0] * 5
            tap.check("%s: pack, ls -l, ls --json, manifest and the library succeed" % what,
                      ok, (rc1, e1, rc2, e2, rc3, e3, rc4, e4, rc5, e5))
            if not ok:
                continue
            want, end = tar_members(tar)
            tap.check("%s: the archive is whole, with hard links and generated members" % what,
                      end == "eof" and any(m[1] == "1" for m in want) and
                      want[-1][0].startswith(".dockerfile.") and
                      [m[0] for m in want].count(".dockerignore") == 1, want)
            got = long_lines(ls, False)
            tap.check("%s: ls -l is the archive, member for member" % what, got == want,
                      (got, want))
            js = json.loads(lsj)["entries"]
            got = [(e["path"], TAR_TYPE[e["type"]], int(e["mode"], 8), e["size"], e.get("link"))
                   for e in js]
            tap.check("%s: ls --json is the archive, member for member" % what, got == want,
                      (got, want))
            gen = [e["path"] for e in js if e.get("generated")]
            tap.check("%s: ls --json marks the members ctxpack writes" % what,
                      gen == [".dockerignore", want[-1][0]], gen)
            ms = json.loads(man)["members"]
            got = [(m["path"], MANIFEST_TYPE[m["type"]], int(m["mode"], 8), m["size"],
                    m.get("link")) for m in ms]
            tap.check("%s: the manifest is the archive, member for member" % what, got == want,
                      (got, want))
            got = long_lines(lib, True)
            tap.check("%s: the library's entries are the archive, member for member" % what,
                      got == want, (got, want, lib, e5))
            with open(os.path.join(top, "lib.tar"), "rb") as f:
                tap.check("%s: the library's archive is the program's" % what,
                          f.read() == tar, "")


main()
sys.exit(tap.finish())

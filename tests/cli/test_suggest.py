#!/usr/bin/env python3
"""test_suggest.py CTXPACK: `ctxpack suggest` on small trees.

The rules suggested and what each saves (sizes made here), their order
(simplest first), that nothing the build reads stops being sent (`ctxpack
ls` of every path a COPY names, `ctxpack lint` without a missing source),
that the Dockerfile, the ignore file and a symlink's target are never
excluded, that a rule that would change what BuildKit reads is left out,
that --write keeps the file's text and comments and replaces its own block,
--min-size, -f -, --json, and the refusals (exit 1 with the reason)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402

CTXPACK = sys.argv[1]
KB = 1024
MB = 1024 * 1024
BEGIN = "# >>> ctxpack suggest: generated, `ctxpack suggest --write` replaces this block"
END = "# <<< ctxpack suggest"


def run(*args, stdin=None):
    p = subprocess.run([CTXPACK] + list(args), capture_output=True, timeout=120, input=stdin)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def suggest(d, *args, stdin=None):
    rc, out, err = run("suggest", "--json", *args, d, stdin=stdin)
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, out + err


def sent(d, builder="buildkit", *args):
    rc, out, err = run("ls", "--builder=" + builder, *args, d)
    return set(out.splitlines()) if rc == 0 else None


def read(d, name=".dockerignore"):
    with open(os.path.join(d, name), "rb") as f:
        return f.read()


def app_tree():
    """An app whose Dockerfile copies package.json, src/ and *.txt."""
    return tap.tree({
        "Dockerfile": b"FROM scratch\nCOPY package.json /app/\nCOPY src /app/src\nCOPY *.txt sub/keep.md /app/\n",
        "package.json": b"{}\n",
        "notes.txt": b"n" * 3000,
        "src/index.js": b"console.log(1)\n",
        "src/lib/u.js": b"x\n",
        "src/node_modules/keep.js": b"k" * 100,       # read: below src
        "node_modules/a/big.js": b"a" * 200000,
        "web/node_modules/b/x.js": b"b" * 100000,
        "assets/video.mp4": b"v" * 2000000,
        "docs/manual.pdf": b"p" * 50000,
        ".git/objects/pack": b"g" * 30000,
        "logs/a.log": b"l" * 5000,
        "tmp/a.bak": b"t" * 7000,
        "sub/old.bak": b"t" * 9000,
        "sub/keep.md": b"m" * 10,
    }, b"# keep logs out\nlogs\n")


def test_suggestions():
    d = app_tree()
    before = read(d)
    rc, doc, err = suggest(d)
    tap.check("suggest: exit 0, no block yet", rc == 0 and doc is not None
              and doc["had_block"] is False, err)
    if not doc:
        return
    rules = [(r["rule"], r["kind"], r["bytes"], r["files"]) for r in doc["rules"]]
    # src/node_modules is read (COPY src): node_modules is no name rule
    want = [("node_modules", "dir", 200000, 1), ("web", "dir", 100000, 1),
            ("assets", "dir", 2000000, 1), ("docs", "dir", 50000, 1), (".git", "dir", 30000, 1),
            ("tmp", "dir", 7000, 1), ("**/*.bak", "ext", 9000, 1)]
    tap.check("suggest: the rules, kinds, bytes and files", sorted(rules) == sorted(want),
              "%s\nwant %s" % (rules, want))
    kinds = [r[1] for r in rules]
    tap.check("suggest: simplest first (directories before extensions)",
              kinds == sorted(kinds, key=["name", "dir", "ext", "file"].index), kinds)
    dirs = [r[2] for r in rules if r[1] == "dir"]
    tap.check("suggest: directories ranked by bytes", dirs == sorted(dirs, reverse=True), dirs)
    tap.check("suggest: sent minus what the rules save is what is left",
              doc["sent"]["bytes"] - sum(r[2] for r in rules) == doc["after"]["bytes"] and
              doc["sent"]["files"] - sum(r[3] for r in rules) == doc["after"]["files"], doc)
    tap.check("suggest: both builders checked", doc["builders"] == ["buildkit", "classic"], doc)
    tap.check("suggest without --write leaves the file alone", read(d) == before)
    rc, out, err = run("suggest", d)
    tap.check("suggest (text): the reduction against the target",
              rc == 0 and "sent 2.3 MiB -> " in out and "target -50 to -70 %: reached" in out
              and "**/*.bak" in out, out + err)


def test_write():
    d = app_tree()
    before = {b: sent(d, b) for b in ("buildkit", "classic")}
    rc, out, err = run("suggest", "--write", d)
    text = read(d).decode()
    tap.check("--write: exit 0, 'written'", rc == 0 and "rules written" in out, out + err)
    tap.check("--write: the file's lines and comments first, then one block",
              text.startswith("# keep logs out\nlogs\n" + BEGIN + "\n") and text.endswith(END + "\n")
              and text.count(BEGIN) == 1, text)
    for b in ("buildkit", "classic"):
        after = sent(d, b)
        read_paths = {"Dockerfile", ".dockerignore", "package.json", "notes.txt", "src/",
                      "src/index.js", "src/lib/", "src/lib/u.js", "src/node_modules/",
                      "src/node_modules/keep.js", "sub/", "sub/keep.md"}
        tap.check("--write: %s still sends everything the build reads" % b,
                  after is not None and read_paths <= after and read_paths <= before[b],
                  sorted(read_paths - (after or set())))
        tap.check("--write: %s sends less" % b, after is not None and after < before[b],
                  sorted(after or []))
        rc, out, err = run("lint", "--json", "--builder=" + b, d)
        codes = [f["code"] for f in json.loads(out)["findings"]] if out.startswith("{") else None
        tap.check("--write: %s lint finds no missing source" % b,
                  codes is not None and "missing-source" not in codes
                  and "source-partly-excluded" not in codes, out + err)
    # the tree changes: a second --write replaces the block
    tap.write(d, "coverage/lcov.info", b"c" * 4000)
    with open(os.path.join(d, ".dockerignore"), "ab") as f:
        f.write(b"# a line the user added after the block\n*.tmp\n")
    rc, out, err = run("suggest", "--write", d)
    text2 = read(d).decode()
    tap.check("--write twice: one block, the new rule in it, the user's lines kept in order",
              rc == 0 and text2.count(BEGIN) == 1 and text2.count(END) == 1
              and "\ncoverage\n" in text2.split(BEGIN)[1]
              and text2.startswith("# keep logs out\nlogs\n# a line the user added after the block\n*.tmp\n"
                                   + BEGIN),
              text2)
    rc, doc, err = suggest(d)
    tap.check("after --write: the old block is left out of the comparison (had_block)",
              rc == 0 and doc and doc["had_block"] is True, doc)
    tap.check("after --write: suggest proposes the same block", rc == 0 and doc and
              [r["rule"] for r in doc["rules"]] ==
              text2.split(BEGIN + "\n")[1].split(END)[0].splitlines(), (doc, text2))


def test_no_newline_no_file():
    d = tap.tree({"Dockerfile": b"FROM scratch\nCOPY a /a\n", "a": b"a", "big/x": b"x" * 5000},
                 b"# no newline\nnothing-here")
    rc, out, err = run("suggest", "--write", d)
    tap.check("--write: a last line without a newline is ended before the block",
              rc == 0 and read(d) == ("# no newline\nnothing-here\n%s\nbig\n%s\n" % (BEGIN, END)).encode(),
              read(d))
    d = tap.tree({"Dockerfile": b"FROM scratch\nCOPY a /a\n", "a": b"a", "big/x": b"x" * 5000})
    rc, out, err = run("suggest", "--write", d)
    tap.check("--write without a .dockerignore: one is made with the block",
              rc == 0 and read(d) == ("%s\nbig\n%s\n" % (BEGIN, END)).encode(), out + err)
    d = tap.tree({"Dockerfile": b"FROM scratch\nCOPY . /a\n", "a": b"a", "big/x": b"x" * 5000},
                 b"x\n")
    rc, out, err = run("suggest", "--write", d)
    tap.check("COPY . reads everything: nothing to add, the file untouched",
              rc == 0 and "nothing to add" in out and read(d) == b"x\n", out + err)


def test_never_excluded():
    d = tap.tree({
        "build/app.dockerfile": b"FROM scratch\nCOPY src /src\n",
        "build/other.dockerfile": b"o" * 5000,
        "build/big.bin": b"b" * 9000,
        "src/a": b"a",
        "x/y.dockerignore": b"i" * 5000,
    }, b"# nothing\n")
    rc, doc, err = suggest(d, "-f", os.path.join(d, "build/app.dockerfile"))
    rules = [r["rule"] for r in doc["rules"]] if doc else None
    tap.check("the Dockerfile's directory and extension are never excluded",
              rc == 0 and rules is not None and "build" not in rules
              and "**/*.dockerfile" not in rules and "x" in rules, (rules, err))
    tap.check("the ignore file's extension is never excluded",
              rules is not None and "**/*.dockerignore" not in rules, rules)
    # a symlink the build follows keeps its target
    d = tap.tree({"Dockerfile": b"FROM scratch\nCOPY link.txt /x/\n", "data/real.txt": b"r",
                  "data/big.bin": b"b" * (2 * MB), "other/o": b"o" * 3000}, b"")
    os.symlink("data/real.txt", os.path.join(d, "link.txt"))
    rc, doc, err = suggest(d)
    rules = [(r["rule"], r["kind"]) for r in doc["rules"]] if doc else None
    tap.check("a symlink's target is kept: its directory is not excluded, a large file beside it is",
              rc == 0 and rules is not None and ("data", "dir") not in rules
              and ("**/*.bin", "ext") in rules and ("other", "dir") in rules, (rules, err))


def test_left_out():
    # BuildKit copies nothing for cache/*.bin while cache/ exists; without
    # cache/ the part before the wildcard is missing and the build fails
    d = tap.tree({"Dockerfile": b"FROM scratch\nCOPY app.txt /x/\nCOPY cache/*.bin /x/\n",
                  "app.txt": b"a", "cache/readme.txt": b"r" * 100000,
                  "other/o.dat": b"o" * 100000}, b"")
    rc, doc, err = suggest(d, "--builder=buildkit")
    rules = [r["rule"] for r in doc["rules"]] if doc else None
    tap.check("a rule that changes what BuildKit reads is left out, the others kept",
              rc == 0 and rules == ["other"] and doc["left_out"] == ["cache"], (doc, err))
    rc, out, err = run("suggest", "--builder=buildkit", d)
    tap.check("the text names the rule left out and why",
              "left out: cache (" in out and "cache/*.bin" in out, out + err)


def test_options():
    d = app_tree()
    rc, doc, err = suggest(d, "--min-size", "60K")
    rules = sorted(r["rule"] for r in doc["rules"]) if doc else None
    tap.check("--min-size drops the rules that save less",
              rc == 0 and rules == sorted(["node_modules", "web", "assets"]), (rules, err))
    df = b"FROM scratch\nCOPY package.json /app/\n"
    rc, doc, err = suggest(d, "-f", "-", stdin=df)
    rules = [r["rule"] for r in doc["rules"]] if doc else None
    tap.check("-f -: the Dockerfile from standard input (src is no longer read)",
              rc == 0 and rules is not None and "src" in rules, (rules, err))
    d2 = tap.tree({"Dockerfile": b"FROM scratch AS a\nCOPY one /x\nFROM scratch AS b\nCOPY two /x\n",
                   "one/f": b"1" * 4000, "two/f": b"2" * 4000})
    rc, doc, err = suggest(d2, "--target", "b", "--builder=buildkit")
    rules = [r["rule"] for r in doc["rules"]] if doc else None
    tap.check("--target b with BuildKit: the unneeded stage a's source may go",
              rc == 0 and rules == ["one"], (rules, err))
    rc, doc, err = suggest(d2, "--target", "b")
    rules = [r["rule"] for r in doc["rules"]] if doc else None
    tap.check("--target b with both builders: the classic builder runs stage a too",
              rc == 0 and rules == [], (rules, err))
    d3 = tap.tree({"Dockerfile": b"FROM scratch\nARG D=one\nCOPY $D /x\n",
                   "one/f": b"1" * 4000, "two/f": b"2" * 4000})
    rc, doc, err = suggest(d3, "--build-arg", "D=two")
    rules = [r["rule"] for r in doc["rules"]] if doc else None
    tap.check("--build-arg: the source the argument names is kept",
              rc == 0 and rules == ["one"], (rules, err))
    rc, out, err = run("suggest", "--min-size", "lots", d)
    tap.check("--min-size with a bad size: usage error, exit 2", rc == 2, err)


def test_refusals():
    d = tap.tree({"Dockerfile": b"FROM scratch\nCOPY a /x/\nCOPY [a /y/\n", "a": b"a",
                  "b/x": b"x" * 4000}, b"# mine\n")
    rc, out, err = run("suggest", "--write", d)
    tap.check("a source ctxpack cannot resolve exactly: refused, exit 1, the line named",
              rc == 1 and "cannot suggest" in err and "Dockerfile:3" in err and out == ""
              and read(d) == b"# mine\n", (rc, out, err))
    d = tap.tree({"Dockerfile": b"FROM scratch\nCOPY\n", "a": b"a"})
    rc, out, err = run("suggest", d)
    tap.check("a Dockerfile the builder refuses: exit 1, the line named",
              rc == 1 and "Dockerfile:2" in err, (rc, out, err))
    d = tap.tree({"a": b"a"})
    rc, out, err = run("suggest", d)
    tap.check("no Dockerfile: exit 1", rc == 1 and "Dockerfile" in err, (rc, out, err))
    d = tap.tree({"Dockerfile": b"FROM scratch\nCOPY a /x/\n", "a": b"a", "b/x": b"x" * 4000,
                  "Dockerfile.dockerignore": b"# buildkit's own\n"}, b"# classic's\n")
    rc, out, err = run("suggest", d)
    tap.check("both builders reading different ignore files: refused, exit 1",
              rc == 1 and "--builder" in err, (rc, out, err))
    rc, out, err = run("suggest", "--builder=buildkit", "--write", d)
    tap.check("--builder=buildkit writes BuildKit's <Dockerfile>.dockerignore",
              rc == 0 and read(d, "Dockerfile.dockerignore").startswith(b"# buildkit's own\n" + BEGIN.encode())
              and read(d) == b"# classic's\n", (out, err))
    rc, out, err = run("suggest", d, d)
    tap.check("two directories: usage error, exit 2", rc == 2, err)


def main():
    test_suggestions()
    test_write()
    test_no_newline_no_file()
    test_never_excluded()
    test_left_out()
    test_options()
    test_refusals()
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

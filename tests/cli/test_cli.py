#!/usr/bin/env python3
"""End-to-end tests of the ctxpack program: exit codes, output formats and
error messages of check-ignore, help and version.  TAP output.

usage: test_cli.py PATH_TO_CTXPACK"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
check = tap.check

CTXPACK = os.path.abspath(sys.argv[1])


def run(args, cwd=None, stdin=b""):
    p = subprocess.run([CTXPACK] + args, cwd=cwd, input=stdin, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def tree(files, ignore):
    return tap.tree(files, ignore, prefix="ctxpack-cli-")


NOBODY = 65534


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def run_as(args, cwd, preexec_fn):
    p = subprocess.run([CTXPACK] + args, cwd=cwd, capture_output=True, preexec_fn=preexec_fn)
    return p.returncode, p.stdout, p.stderr


def open_up(top):
    """Everything below top readable by anyone (tap.tree's directory is 0700)."""
    for d, dirs, files in os.walk(top):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)


def test_unreadable_ignore_file():
    """An unreadable .dockerignore: BuildKit reads it as empty, pack cannot
    send it; check-ignore fails as every other command does, saying so,
    instead of answering as if the file were not there."""
    name = "an unreadable .dockerignore"
    if os.getuid() != 0:
        tap.skip(name, "needs root to run as uid %d" % NOBODY)
        return
    ctx = tree({"Dockerfile": b"FROM scratch\n", "a": b"a"}, b"a\n")
    open_up(ctx)
    os.chmod(os.path.join(ctx, ".dockerignore"), 0)
    for b in ("buildkit", "classic"):
        prc, _, perr = run_as(["ls", "--builder", b], ctx, as_nobody)
        rc, out, err = run_as(["check-ignore", "--builder", b, "a"], ctx, as_nobody)
        check("%s (%s): ls fails, and check-ignore exits 2 naming it" % (name, b),
              prc != 0 and rc == 2 and not out and b"'.dockerignore'" in err and
              b"Permission denied" in err, (prc, perr, rc, out, err))


def test_probe_unreadable():
    """check-ignore asks the walker whether anything below an excluded
    directory is sent: what it cannot read there, it reports as pack does."""
    name = "check-ignore's subtree probe meets an unreadable file"
    if os.getuid() != 0:
        tap.skip(name, "needs root to run as uid %d" % NOBODY)
        return
    try:
        rc, _, _ = run_as(["--version"], "/", as_nobody)
    except (OSError, subprocess.SubprocessError) as e:
        rc = e
    if rc != 0:
        tap.skip(name, "uid %d cannot run %s (%s)" % (NOBODY, CTXPACK, rc))
        return
    ctx = tree({"Dockerfile": b"FROM scratch\n", "dir/keep": b"k", "dir/other": b"o"}, b"dir\n!dir/keep\n")
    open_up(ctx)
    os.chmod(os.path.join(ctx, "dir/keep"), 0)
    prc, pout, perr = run_as(["pack", "."], ctx, as_nobody)
    rc, out, err = run_as(["check-ignore", "--json", "dir"], ctx, as_nobody)
    check("%s: pack fails naming it (exit 1)" % name,
          prc == 1 and b"'dir/keep'" in perr, (prc, perr))
    check("%s: check-ignore reports pack's message, exit 2" % name,
          rc == 2 and err == perr, (rc, err, perr))
    rc, out, err = run_as(["check-ignore", "dir/other"], ctx, as_nobody)
    check("%s: a path decided lexically still answers" % name, rc == 0 and out == b"dir/other\n",
          (rc, out, err))

    ctx = tree({"Dockerfile": b"FROM scratch\n", "dir/sub/keep": b"k", "dir/x": b"x"}, b"dir\n!dir/sub/keep\n")
    open_up(ctx)
    os.chmod(os.path.join(ctx, "dir/sub"), 0)
    prc, pout, perr = run_as(["ls"], ctx, as_nobody)
    rc, out, err = run_as(["check-ignore", "--json", "dir"], ctx, as_nobody)
    try:
        sent = json.loads(out)["results"][0]["sent"]
    except (ValueError, KeyError, IndexError):
        sent = None
    check("an excluded directory BuildKit cannot read below an excluded one: pack skips it, "
          "check-ignore says its parent is not sent",
          prc == 0 and b"dir/" not in pout.splitlines() and rc == 0 and sent is False,
          (prc, pout, perr, rc, out, err))
    os.chmod(os.path.join(ctx, "dir/sub"), 0o755)


def test_probe_deep():
    """A re-included file 200 directories below an excluded one, under
    ulimit -n 32: the probe walks with the walker's descriptor budget
    (the old recursive probe held one descriptor per level and lost the
    file silently)."""
    import resource
    depth, lim = 200, 32
    rel = "/".join(["d"] * depth)
    ctx = tree({"Dockerfile": b"FROM scratch\n", "deep/%s/keep" % rel: b"k", "deep/x": b"x"},
               ("deep\n!deep/%s/keep\n" % rel).encode())

    def low():
        resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
    lrc, lout, lerr = run_as(["ls"], ctx, low)
    rc, out, err = run_as(["check-ignore", "--json", "deep", "deep/d"], ctx, low)
    try:
        res = json.loads(out)["results"]
        ok = all(r["sent"] is True and r.get("parent_of_sent") is True for r in res)
    except (ValueError, KeyError):
        ok = False
    check("deep %d levels under ulimit -n %d: check-ignore sends the excluded parents, as ls"
          % (depth, lim), lrc == 0 and b"deep/" in lout.splitlines() and rc == 1 and ok,
          (lrc, lerr, rc, out, err))


def main():
    ctx = tree({"Dockerfile": b"FROM scratch\n", "src/a.js": b"", "build/out": b"",
                "build/keep/x": b"", "node_modules/m/i.js": b""},
               b"# deps\nnode_modules\nbuild\n!build/keep\n")

    rc, out, err = run(["--help"])
    check("help exits 0 and lists check-ignore", rc == 0 and b"check-ignore" in out, out)
    rc, out, err = run(["check-ignore", "--help"])
    check("check-ignore --help explains exit status", rc == 0 and b"Exit status" in out, out)
    rc, out, err = run(["--version"])
    check("version names ctxpack and libarchive", rc == 0 and out.startswith(b"ctxpack ") and b"libarchive" in out, out)
    rc, out, err = run([])
    check("no command: usage on stderr, exit 2", rc == 2 and b"usage" in err, err)
    rc, out, err = run(["frobnicate"])
    check("unknown command: exit 2, names it", rc == 2 and b"frobnicate" in err, err)
    rc, out, err = run(["check-ignore", "--builder=docker", "x"], cwd=ctx)
    check("bad --builder value: exit 2, names the option", rc == 2 and b"--builder" in err, err)
    rc, out, err = run(["check-ignore", "--bogus", "x"], cwd=ctx)
    check("unknown option: exit 2", rc == 2 and b"--bogus" in err, err)
    rc, out, err = run(["check-ignore"], cwd=ctx)
    check("no path: exit 2", rc == 2 and b"no path" in err, err)

    rc, out, err = run(["check-ignore", "src/a.js", "node_modules/m/i.js"], cwd=ctx)
    check("prints only ignored paths, exit 0", rc == 0 and out == b"node_modules/m/i.js\n", out)
    rc, out, err = run(["check-ignore", "src/a.js"], cwd=ctx)
    check("nothing ignored: exit 1, no output", rc == 1 and out == b"", out)
    rc, out, err = run(["check-ignore", "-C", ctx, "-v", "build/out", "build/keep/x", "src/a.js"])
    check("-v shows source:line:pattern and tab", rc == 0 and out ==
          b".dockerignore:3:build\tbuild/out\n.dockerignore:4:!build/keep\tbuild/keep/x\n", out)
    rc, out, err = run(["check-ignore", "-C", ctx, "-v", "-n", "src/a.js"])
    check("-v -n shows unmatched paths as ::", rc == 1 and out == b"::\tsrc/a.js\n", out)
    rc, out, err = run(["check-ignore", "-C", ctx, "--stdin", "-z"], stdin=b"src/a.js\0build/out\0")
    check("--stdin -z reads and writes NUL-terminated paths", rc == 0 and out == b"build/out\0", out)
    rc, out, err = run(["check-ignore", "-C", ctx, "-v", "-z", "build/out"])
    check("-v -z: git's NUL-separated fields", out == b".dockerignore\x003\x00build\x00build/out\x00", out)
    rc, out, err = run(["check-ignore", "-C", ctx, "--json", "node_modules/m/i.js", "src/a.js"])
    try:
        doc = json.loads(out)
        r0, r1 = doc["results"]
        ok = (doc["version"] == 1 and doc["builder"] == "buildkit" and r0["sent"] is False
              and r0["pruned"] is True and r0["rule"]["line"] == 2 and r1["sent"] is True
              and r1["rule"] is None and r1["verdict"] == "none")
    except Exception as e:  # noqa: BLE001
        ok, out = False, repr(e).encode() + out
    check("--json: documented shape, pruned path names the pruning rule", ok, out)
    rc, out, err = run(["check-ignore", "-C", ctx, "--json", "-q", "build/out"])
    check("-q prints nothing and keeps the status", rc == 0 and out == b"", out)
    rc, out, err = run(["check-ignore", "-C", ctx, "../etc/passwd"])
    check("a path outside the context: exit 2, says so", rc == 2 and b"outside the context" in err, err)
    rc, out, err = run(["check-ignore", "-C", ctx, "./build//out/"])
    check("paths are cleaned (./, //, trailing /)", rc == 0 and out == b"./build//out/\n", out)
    rc, out, err = run(["check-ignore", "-C", "/nonexistent-ctxpack-dir", "x"])
    check("missing -C directory: exit 2 names it", rc == 2 and b"/nonexistent-ctxpack-dir" in err, err)

    bad = tree({"Dockerfile": b""}, b"ok\n\n  [a-\n")
    rc, out, err = run(["check-ignore", "x"], cwd=bad)
    check("malformed pattern: file, line and reason", rc == 2 and b".dockerignore:3:" in err
          and b"unterminated character class" in err and b"[a-" in err, err)
    rc, out, err = run(["check-ignore", "--builder=classic", "x"], cwd=bad)
    check("malformed pattern fails in classic mode too", rc == 2 and b".dockerignore:3:" in err, err)
    lazy = tree({"Dockerfile": b""}, b"a\\e*\n")
    rc, out, err = run(["check-ignore", "x"], cwd=lazy)
    check("lazily bad pattern: exit 2 when evaluated", rc == 2 and b"invalid escape" in err, err)
    rc, out, err = run(["check-ignore", "x"], cwd=tree({"Dockerfile": b""}, b"!a\\e*\n"))
    check("lazily bad exception never evaluated: accepted", rc == 1, err)
    rc, out, err = run(["check-ignore", "x"], cwd=tree({"Dockerfile": b""}, b"\\pL\n"))
    check("unsupported construct: refused, naming it", rc == 2 and b"\\p" in err, err)
    long_line = tree({"Dockerfile": b""}, b"a\n" + b"x" * 70000 + b"\n")
    rc, out, err = run(["check-ignore", "x"], cwd=long_line)
    check("a line over 64 KiB: exit 2 with the line", rc == 2 and b".dockerignore:2:" in err, err)
    nodf = tree({"a": b""}, None)
    rc, out, err = run(["check-ignore", "a"], cwd=nodf)
    check("no Dockerfile: exit 2 (docker build fails too)", rc == 2 and b"Dockerfile" in err, err)
    rc, out, err = run(["check-ignore", "-f", "a", "a"], cwd=nodf)
    check("-f names the Dockerfile", rc == 1, err)

    # classic re-adds .dockerignore and the Dockerfile; buildkit does not
    every = tree({"Dockerfile": b"", "x": b""}, b"*\n")
    rc, out, err = run(["check-ignore", "--builder=classic", "-v", ".dockerignore", "Dockerfile", "x"], cwd=every)
    check("classic re-adds show as <builder>:0", out ==
          b"<builder>:0:!.dockerignore\t.dockerignore\n<builder>:0:!Dockerfile\tDockerfile\n.dockerignore:1:*\tx\n", out)
    rc, out, err = run(["check-ignore", "-v", ".dockerignore", "Dockerfile"], cwd=every)
    check("buildkit: .dockerignore excluded, Dockerfile always sent", out ==
          b".dockerignore:1:*\t.dockerignore\n<builder>:0:!Dockerfile\tDockerfile\n", out)
    dfi = tree({"Dockerfile": b"", "Dockerfile.dockerignore": b"b\n", "a": b"", "b": b""}, b"a\n")
    rc, out, err = run(["check-ignore", "a", "b"], cwd=dfi)
    check("buildkit: Dockerfile.dockerignore replaces .dockerignore", out == b"b\n", out)
    rc, out, err = run(["check-ignore", "--builder=classic", "a", "b"], cwd=dfi)
    check("classic: Dockerfile.dockerignore is just a file", out == b"a\n", out)

    # buildkit sends the parents of what it sends; classic does not
    rc, out, err = run(["check-ignore", "--json", "build", "build/out"], cwd=ctx)
    doc = json.loads(out)
    b, bo = doc["results"]
    check("buildkit: an excluded dir with a re-included entry is sent as its parent",
          b["sent"] is True and b.get("parent_of_sent") is True and b["verdict"] == "excluded"
          and bo["sent"] is False, out)
    rc, out, err = run(["check-ignore", "--builder=classic", "--json", "build"], cwd=ctx)
    check("classic: the excluded parent is not sent", json.loads(out)["results"][0]["sent"] is False, out)

    # ls --all / --excluded: every decision from the same walk
    rc, out, err = run(["ls", "--all"], cwd=ctx)
    lines = out.decode().splitlines()
    check("ls --all: status, rule and path per entry", rc == 0 and
          "excluded\t.dockerignore:3:build\tbuild/out" in lines and
          "parent\t.dockerignore:3:build\tbuild/" in lines and
          "sent\t.dockerignore:4:!build/keep\tbuild/keep/" in lines and
          "excluded\t.dockerignore:2:node_modules\tnode_modules/" in lines and
          not any(l.endswith("node_modules/m/i.js") for l in lines), out)
    rc, out, err = run(["ls", "--excluded", "--builder=classic"], cwd=ctx)
    check("ls --excluded (classic): only what is not sent, with the rule", rc == 0 and
          out.decode().splitlines() == [".dockerignore:3:build\tbuild/", ".dockerignore:3:build\tbuild/out",
                                        ".dockerignore:2:node_modules\tnode_modules/"], out)
    rc, out, err = run(["ls"], cwd=ctx)
    check("ls: what pack sends", rc == 0 and out.decode().splitlines() == [
        ".dockerignore", "Dockerfile", "build/", "build/keep/", "build/keep/x", "src/", "src/a.js"], out)

    test_unreadable_ignore_file()
    test_probe_unreadable()
    test_probe_deep()

    return tap.finish(600)

if __name__ == "__main__":
    sys.exit(main())

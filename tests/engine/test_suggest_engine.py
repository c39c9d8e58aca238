#!/usr/bin/env python3
"""A real build of a tree before and after `ctxpack suggest --write` holds
the same files, on BuildKit and on the classic builder.

The engine is the project's own (scripts/engine.sh; CTXPACK_ENGINE_HOST and
CTXPACK_DOCKER_CONFIG as for test_engine_builds.py); without it every check
is skipped visibly.  The trees: examples/webapp with its Dockerfile made
FROM scratch (its COPY lines kept), and a generated one with dependencies,
VCS history, media, logs, a wildcard source and a symlink the build
follows.  For each: `suggest
--write` must write rules; then `docker build` of the tree (BuildKit:
--output type=tar; classic: docker save) gives the same members, with type,
mode, size, content, link and mtime, as before (the classic builder's
directories without their mtime: it stamps those it creates with the time
of the build).  BuildKit's "transferring
context" before and after are printed as TAP comments.

usage: test_suggest_engine.py PATH_TO_CTXPACK"""
import os
import shutil
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, HERE)
import tap  # noqa: E402
import test_engine_builds as eb  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
WEBAPP = os.path.join(HERE, "..", "..", "examples", "webapp")


def webapp():
    d = os.path.join(tap.mkdtemp("ctxpack-suggest-webapp-"), "ctx")
    shutil.copytree(WEBAPP, d, symlinks=True)
    with open(os.path.join(d, "Dockerfile"), "w") as f:
        f.write("FROM scratch\nCOPY package.json /ctx/\nCOPY src /ctx/src\n")
    return d


def generated():
    d = tap.tree({
        "Dockerfile": b"FROM scratch\nCOPY package.json *.cfg /ctx/\nCOPY lib /ctx/lib\n"
                      b"COPY current /ctx/current\n",
        "package.json": b"{}\n",
        "a.cfg": b"a=1\n", "b.cfg": b"b=2\n",
        "lib/x.py": b"print(1)\n", "lib/sub/y.py": b"y\n",
        "releases/v2/app.txt": b"v2\n", "releases/v1/old.bin": os.urandom(40000),
        "node_modules/dep/index.js": os.urandom(150000),
        "tools/node_modules/t/t.js": os.urandom(60000),
        ".git/objects/ab": os.urandom(80000),
        "media/clip.mp4": os.urandom(1500000),
        "app.log": b"log\n" * 2000, "lib2/trace.log": b"t\n" * 500,
    }, b"# the user's own rules\n*.tmp\n", prefix="ctxpack-suggest-gen-")
    os.symlink("releases/v2", os.path.join(d, "current"))
    return d


def build_buildkit(ctx, dest):
    r = eb.run(["docker", "build", "--no-cache", "--progress=plain", "--output",
                "type=tar,dest=" + dest, ctx])
    if r.returncode:
        return None, r.stderr.decode(errors="replace")[-1500:]
    with tarfile.open(dest) as tf:
        return eb.members(tf, prefix="ctx/"), eb.transferred(r.stderr)


def build_classic(ctx, tag):
    r = eb.run(["docker", "build", "--no-cache", "-q", "-t", tag, ctx], classic=True)
    if r.returncode:
        return None, r.stderr.decode(errors="replace")[-1500:]
    eb.tags.append(tag)
    # The classic builder gives a directory its COPY creates the time of
    # the build (two builds of one tree differ there): not compared.
    return {k: v[:5] + ((None,) if v[0] == tarfile.DIRTYPE else v[5:])
            for k, v in eb.image_members(tag).items()}, ""


def case(name, ctx):
    eb.whole_seconds(ctx)
    work = tap.mkdtemp("ctxpack-suggest-out-")
    before_bk, t_before = build_buildkit(ctx, os.path.join(work, "before.tar"))
    before_cl, err_cl = build_classic(ctx, "%s-%s-before" % (eb.TAG, name))
    r = subprocess.run([CTXPACK, "suggest", "--write", ctx], capture_output=True, timeout=300)
    out = r.stdout.decode(errors="replace")
    wrote = r.returncode == 0 and ("rules written" in out or " rule written" in out)
    tap.check("%s: suggest --write writes rules" % name, wrote,
              out + r.stderr.decode(errors="replace"))
    after_bk, t_after = build_buildkit(ctx, os.path.join(work, "after.tar"))
    after_cl, err_cl2 = build_classic(ctx, "%s-%s-after" % (eb.TAG, name))
    tap.check("%s: BuildKit: the image holds the same files before and after (%d under ctx/)"
              % (name, len(before_bk or {})),
              before_bk and after_bk == before_bk,
              "before %s\nafter %s" % (t_before if before_bk is None else "",
                                       t_after if after_bk is None else
                                       eb.diff(before_bk, after_bk)))
    bc, ac = before_cl or {}, after_cl or {}
    tap.check("%s: classic: the image holds the same files before and after (%d under ctx/)"
              % (name, len(bc)), before_cl and after_cl == before_cl,
              "%s %s %s" % (err_cl, err_cl2, eb.diff(bc, ac)))
    eb.notes.append("%s: BuildKit transferring context: %s before, %s after; suggest: %s"
                 % (name, t_before, t_after, out.strip().splitlines()[-1] if out.strip() else "?"))


def main():
    checks = ["%s: %s" % (n, w) for n in ("webapp", "generated")
              for w in ("suggest --write", "BuildKit same image", "classic same image")]
    if not eb.engine_ready(checks):
        return tap.finish()
    try:
        case("webapp", webapp())
        case("generated", generated())
    finally:
        eb.remove_images()
    return eb.finish()


if __name__ == "__main__":
    sys.exit(main())

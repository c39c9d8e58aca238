#!/usr/bin/env python3
"""`ctxpack pack --used DIR | docker build -f Dockerfile -` builds what
`docker build DIR` builds, on BuildKit and on the classic builder, while
the archive holds only what the build reads (BuildKit: what it transfers).

The tree is record_used.py's three-megabyte one (nested directories, a
symlink to a directory and one to a file, a hard link, an excluded cache,
logs with one re-included); each Dockerfile copies part of it into /ctx/:
directories, wildcards, a symlinked directory, a stage chosen by --target.
Image contents are compared member by member under ctx/ (type, mode,
size, content, link, mtime), as test_engine_builds.py does; the --used
archive must be smaller than the whole context's where the Dockerfile
leaves something unread.  Skips visibly without the engine
(CTXPACK_ENGINE_HOST, `eval "$(scripts/engine.sh env --tests)"`).

usage: test_pack_used.py PATH_TO_CTXPACK"""
import os
import shutil
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, HERE)
import tap  # noqa: E402
import record_used  # noqa: E402
import test_engine_builds as eb  # noqa: E402

CASES = [
    ("dirs", [], "FROM scratch\nCOPY app/ /ctx/app/\nCOPY lib /ctx/lib/\n"),
    ("wildcards", [], "FROM scratch\nCOPY app/src/m1* /ctx/s/\nCOPY lib/*.c README.* /ctx/c/\n"),
    ("symlinks", [], "FROM scratch\nCOPY web/ /ctx/w/\nCOPY app/current /ctx/cur\n"),
    ("target", ["--target", "b"], "FROM scratch AS a\nCOPY app/assets /ctx/a/\n"
     "FROM scratch AS b\nCOPY lib /ctx/lib/\nCOPY app/src/m00* /ctx/s/\n"),
]


START = int(time.time()) - 5


def made_by_build(m):
    """A directory the COPY made as its destination (not one of the
    context's, whose mtimes are in 2023: eb.whole_seconds) carries the
    time of the build: two builds differ there whatever the context."""
    return {k: v[:5] + (("build time",) if v[0] == tarfile.DIRTYPE and v[5] >= START else v[5:])
            for k, v in m.items()}


def dirs_untimed(m):
    return {k: v[:5] if v[0] == tarfile.DIRTYPE else v for k, v in m.items()}


def pack(args):
    r = subprocess.run([eb.CTXPACK, "pack"] + args, capture_output=True, timeout=120)
    if r.returncode:
        raise RuntimeError("ctxpack pack %s: %s" % (args, r.stderr.decode(errors="replace")))
    return r.stdout


def tree(df):
    d = os.path.join(tap.mkdtemp("ctxpack-used-engine-"), "ctx")
    os.mkdir(d)
    record_used.write_tree(d, dict(files=record_used.BIG, dockerfile=df,
                                   dockerignore=record_used.BIG_IGNORE))
    eb.whole_seconds(d)
    return d


def buildkit(name, d, extra):
    work = tap.mkdtemp("ctxpack-used-out-")
    ref = os.path.join(work, "ref.tar")
    r = eb.run(["docker", "build", "--no-cache", "--progress=plain"] + extra +
               ["--output", "type=tar,dest=" + ref, d])
    if r.returncode:
        return tap.check("%s: BuildKit: docker build DIR" % name, False, r.stderr[-1500:])
    archive = pack(["--used", "--builder=buildkit"] + extra + [d])
    whole = pack(["--builder=buildkit", d])
    got = {}
    for what, data in (("used", archive), ("whole", whole)):
        out = os.path.join(work, what + ".tar")
        r2 = subprocess.run(["docker", "build", "--no-cache", "--progress=plain", "-f",
                             "Dockerfile"] + extra + ["--output", "type=tar,dest=" + out, "-"],
                            env=eb.env(False), input=data, capture_output=True, timeout=300)
        if r2.returncode:
            return tap.check("%s: BuildKit: pack %s| docker build -" %
                             (name, "--used " if what == "used" else ""), False,
                             r2.stderr[-1500:])
        with tarfile.open(out) as t:
            got[what] = made_by_build(eb.members(t))
    with tarfile.open(ref) as a:
        ma = made_by_build(eb.members(a))
    mb = got["used"]
    tap.check("%s: BuildKit: pack --used | docker build - builds what pack | docker build - "
              "builds (%d members under ctx/)" % (name, len(mb)), mb and mb == got["whole"],
              eb.diff(got["whole"], mb))
    # BuildKit stamps some directories of `COPY dir/ dest/` with the build's
    # time when it reads a local context, with the source's from a tar on
    # stdin (the whole context's pipe does the same): directory mtimes aside
    tap.check("%s: BuildKit: pack --used | docker build - builds what docker build DIR builds "
              "(%d members under ctx/; directory mtimes aside)" % (name, len(ma)),
              ma and dirs_untimed(ma) == dirs_untimed(mb), eb.diff(ma, mb))
    tap.check("%s: BuildKit: the --used archive (%d bytes) is smaller than the context's (%d)"
              % (name, len(archive), len(whole)), len(archive) < len(whole))


def classic(name, d, extra):
    ta, tb = "%s-used-%s-dir" % (eb.TAG, name), "%s-used-%s-pipe" % (eb.TAG, name)
    r = eb.run(["docker", "build", "--no-cache", "-q", "-t", ta] + extra + [d], classic=True)
    if r.returncode:
        return tap.check("%s: classic: docker build DIR" % name, False, r.stderr[-1500:])
    eb.tags.append(ta)
    archive = pack(["--used", "--builder=classic"] + extra + [d])
    r2 = subprocess.run(["docker", "build", "--no-cache", "-q", "-t", tb, "-f", "Dockerfile"] +
                        extra + ["-"], env=eb.env(True), input=archive, capture_output=True,
                        timeout=300)
    if r2.returncode:
        return tap.check("%s: classic: pack --used | docker build -" % name, False,
                         r2.stderr[-1500:])
    eb.tags.append(tb)
    ma, mb = made_by_build(eb.image_members(ta)), made_by_build(eb.image_members(tb))
    tap.check("%s: classic: pack --used --builder=classic | docker build - builds what docker "
              "build DIR builds (%d members under ctx/)" % (name, len(ma)), ma and ma == mb,
              eb.diff(ma, mb))


def main():
    checks = ["%s: %s" % (n, b) for n, _, _ in CASES for b in ("BuildKit", "classic")]
    if not eb.HOST or not shutil.which("docker"):
        why = "no engine (CTXPACK_ENGINE_HOST unset)" if not eb.HOST else "no docker CLI"
        for c in checks:
            tap.skip(c, why)
        return tap.finish()
    try:
        for name, extra, df in CASES:
            d = tree(df)
            buildkit(name, d, extra)
            classic(name, d, extra)
    finally:
        if eb.tags:
            eb.run(["docker", "rmi", "-f"] + eb.tags, classic=True, timeout=120)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

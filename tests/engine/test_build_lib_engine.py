#!/usr/bin/env python3
"""The library's build (ctxpack_engine_build, through tests/lib/build_lib.c) on
the real engine (scripts/engine.sh) builds what `ctxpack build` builds, on
BuildKit and on the classic builder: the same tree with the same options
(target, build arg, labels) gives images whose files under ctx/ (docker
save, layers applied) agree member by member and whose labels agree; the
image ID the library returns is the one its tag names; a failing build
returns an error with the builder's message (BuildKit: the failing step
reaches the callback); --skip-unchanged's labels are the program's (each
finds the image the other made unchanged).  Without CTXPACK_ENGINE_HOST
every check is skipped visibly.

usage: test_build_lib_engine.py BUILD_LIB PATH_TO_CTXPACK"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, HERE)
import tap  # noqa: E402
import test_engine_builds as teb  # noqa: E402

BUILD_LIB = os.path.abspath(sys.argv[1])
CTXPACK = os.path.abspath(sys.argv[2])
TAG = "ctxpack-buildlib-test-%d" % os.getpid()
tags = []

DOCKERFILE = b"""FROM scratch AS base
ARG A=default
LABEL from.dockerfile=yes arg=$A
COPY a.txt /ctx/a.txt
COPY sub/ /ctx/sub/
FROM base AS final
COPY . /ctx/all/
"""


def tree():
    t = tap.tree({"Dockerfile": DOCKERFILE, "a.txt": b"a\n", "sub/b.txt": b"b" * 5000,
                  "sub/x/c.txt": b"c\n", "secret.txt": b"s3cret\n", "build.log": b"log\n"},
                 b"*.log\nsecret.txt\n", prefix="ctxpack-buildlib-engine-")
    os.chmod(os.path.join(t, "sub/x/c.txt"), 0o751)
    os.symlink("a.txt", os.path.join(t, "link"))
    teb.whole_seconds(t)
    return t


def builder(classic):
    return "--builder=" + ("classic" if classic else "buildkit")


def lib_build(args, ctx, classic):
    r = subprocess.run([BUILD_LIB, builder(classic)] + args + [ctx], env=teb.env(classic),
                       capture_output=True, timeout=300)
    lines = r.stderr.decode(errors="replace").strip().splitlines()
    try:
        res = json.loads(lines[-1])
    except (ValueError, IndexError):
        res = {"rc": None, "stderr": r.stderr.decode(errors="replace")[-1500:]}
    return r, res


def inspect(ref):
    r = teb.run(["docker", "image", "inspect", ref], classic=True, timeout=60)
    return json.loads(r.stdout)[0] if r.returncode == 0 else None


def compare(ctx, classic):
    kind = "classic" if classic else "BuildKit"
    for target in ("final", "base"):
        tc, tl = ("%s-%s-%s-%s" % (TAG, kind.lower(), target, s) for s in ("cli", "lib"))
        common = ["--no-cache", "--target", target, "--build-arg", "A=%s-arg" % target,
                  "--label", "made.by=test", "--label", "target=%s" % target]
        r = subprocess.run([CTXPACK, "build", builder(classic), "-q", "-t", tc] + common + [ctx],
                           env=teb.env(classic), capture_output=True, timeout=300)
        if r.returncode:
            tap.check("%s --target %s: ctxpack build" % (kind, target), False, r.stderr[-1500:])
            continue
        tags.append(tc)
        lr, res = lib_build(common + ["-t", tl], ctx, classic)
        if lr.returncode:
            tap.check("%s --target %s: the library's build" % (kind, target), False, res)
            continue
        tags.append(tl)
        mc, ml = teb.built(teb.image_members(tc)), teb.built(teb.image_members(tl))
        tap.check("%s --target %s: the library builds what ctxpack build builds (%d members "
                  "under ctx/)" % (kind, target, len(mc)), mc and mc == ml, teb.diff(mc, ml))
        ic, il = inspect(tc), inspect(tl)
        tap.check("%s --target %s: the same labels" % (kind, target),
                  ic and il and ic["Config"]["Labels"] == il["Config"]["Labels"] and
                  il["Config"]["Labels"].get("arg") == "%s-arg" % target,
                  (ic and ic["Config"]["Labels"], il and il["Config"]["Labels"]))
        tap.check("%s --target %s: the image ID returned is the one its tag names"
                  % (kind, target), il and res.get("image_id") == il["Id"],
                  (res.get("image_id"), il and il["Id"]))
        if not classic and target == "final":
            tap.check("BuildKit: the trace reached the callback, every step completed",
                      res.get("trace_events", 0) > 0 and res.get("steps", 0) > 0 and
                      res.get("steps") == res.get("completed"), res)


def failure(ctx, classic):
    kind = "classic" if classic else "BuildKit"
    d = tap.mkdtemp("ctxpack-buildlib-fail-")
    path = os.path.join(d, "f.Dockerfile")
    with open(path, "wb") as f:
        f.write(b"FROM scratch\nCOPY secret.txt /\n")
    r, res = lib_build(["-f", path], ctx, classic)
    tap.check("%s: a COPY of an excluded file: an error, failed, the builder's message "
              "names it" % kind,
              r.returncode == 1 and res.get("failed") is True and
              "secret.txt" in res.get("message", "") and
              (classic or "COPY secret.txt" in res.get("failed_step", "")), res)


def skip_unchanged(classic):
    """An image `ctxpack build --skip-unchanged` labelled is found unchanged
    by the library (the same labels), and the other way round; a changed
    file builds anew.  `build --stats=FILE` of a skipped build records no
    archive."""
    kind = "classic" if classic else "BuildKit"
    ctx = tap.tree({"Dockerfile": b"FROM scratch\nCOPY . /ctx/\n", "f.txt": b"one\n"},
                   prefix="ctxpack-buildlib-skip-")
    tag = "%s-skip-%s" % (TAG, kind.lower())
    tags.append(tag)
    env = dict(teb.env(classic), XDG_CACHE_HOME=tap.mkdtemp("ctxpack-buildlib-xdg-"))
    stats = os.path.join(tap.mkdtemp("ctxpack-buildlib-stats-"), "s.json")

    def cli(extra=()):
        return subprocess.run([CTXPACK, "build", builder(classic), "--skip-unchanged", "-q",
                               "-t", tag] + list(extra) + [ctx], env=env, capture_output=True,
                              timeout=300)

    r = cli()
    _, res = lib_build(["--skip-unchanged", "-t", tag], ctx, classic)
    tap.check("%s --skip-unchanged: the library finds the image ctxpack build made "
              "unchanged (nothing sent, its ID)" % kind,
              r.returncode == 0 and res.get("rc") == 0 and res.get("skipped") is True and
              res.get("sent_bytes") == 0 and
              res.get("image_id") == r.stdout.decode().strip(), (r.stderr[-800:], res))
    tap.write(ctx, "f.txt", b"two\n")
    _, res = lib_build(["--skip-unchanged", "-t", tag], ctx, classic)
    r = cli(["--stats=" + stats])
    doc = json.load(open(stats)) if os.path.exists(stats) else {}
    tap.check("%s --skip-unchanged: a changed file: the library builds, ctxpack build then "
              "finds that image unchanged, its --stats records no archive" % kind,
              res.get("rc") == 0 and res.get("skipped") is False and r.returncode == 0 and
              r.stdout.decode().strip() == res.get("image_id") and "archive" in doc and
              doc["archive"] is None, (res, r.stderr[-800:], doc.get("archive", "absent")))


def main():
    names = ["%s: %s" % (k, c) for k in ("classic", "BuildKit")
             for c in ("images agree", "a failing build", "--skip-unchanged")]
    if not teb.engine_ready(names):
        return tap.finish()
    ctx = tree()
    try:
        for classic in (True, False):
            compare(ctx, classic)
            failure(ctx, classic)
            skip_unchanged(classic)
    finally:
        if tags:
            teb.run(["docker", "rmi", "-f"] + tags, classic=True, timeout=120)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

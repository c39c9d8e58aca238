#!/usr/bin/env python3
"""`ctxpack build` on the real engine (scripts/engine.sh) builds what `docker
build DIR` builds, on BuildKit and on the classic builder.

For each builder, one tree with a multi-stage Dockerfile (FROM scratch, COPY
only: no container can run there), a .dockerignore, build args and labels:
- `ctxpack build --target T --build-arg A=... --label ... -t X -t Y --iidfile F`
  and `docker build` with the same options: the image's files under ctx/
  (docker save, layers applied) agree member by member (type, mode, size,
  content, link, mtime), and so do the labels (the build arg is expanded
  into one); both tags name the image of the iidfile; -q prints that ID;
- both stages as --target;
- failing builds: a COPY of a file .dockerignore excludes, an unknown
  instruction, a FROM that cannot be pulled: exit 1, the builder's message
  on stderr (the key words docker build prints for the same build);
- --skip-unchanged: nothing sent (and the tag's image ID in --iidfile) for
  an unchanged tree, a build when one byte, a build arg or the Dockerfile
  changed, or with --no-cache.
Without CTXPACK_ENGINE_HOST every check is skipped visibly.

usage: test_build_cmd.py PATH_TO_CTXPACK"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, HERE)
import tap  # noqa: E402
import test_engine_builds as teb  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
HOST = teb.HOST
TAG = "ctxpack-build-test-%d" % os.getpid()
tags = []

DOCKERFILE = b"""FROM scratch AS base
ARG A=default
LABEL from.dockerfile=yes arg=$A
COPY a.txt /ctx/a.txt
COPY sub/ /ctx/sub/
FROM base AS final
COPY . /ctx/all/
"""


def ctxpack_build(args, ctx, classic):
    env = teb.env(classic)
    return subprocess.run([CTXPACK, "build", "--builder=" + ("classic" if classic else "buildkit")]
                          + args + [ctx], env=env, capture_output=True, timeout=300)


def inspect(ref):
    r = teb.run(["docker", "image", "inspect", ref], classic=True, timeout=60)
    if r.returncode:
        return None
    return json.loads(r.stdout)[0]


def tree():
    t = tap.tree({"Dockerfile": DOCKERFILE, "a.txt": b"a\n", "sub/b.txt": b"b" * 5000,
                  "sub/x/c.txt": b"c\n", "secret.txt": b"s3cret\n", "build.log": b"log\n"},
                 b"*.log\nsecret.txt\n", prefix="ctxpack-buildcmd-")
    os.chmod(os.path.join(t, "sub/x/c.txt"), 0o751)
    os.symlink("a.txt", os.path.join(t, "link"))
    teb.whole_seconds(t)
    return t


def compare(ctx, classic):
    kind = "classic" if classic else "BuildKit"
    for target in ("final", "base"):
        ta, tb, tb2 = ("%s-%s-%s-%s" % (TAG, kind.lower(), target, s) for s in ("docker", "ctxpack", "two"))
        iid = os.path.join(tap.mkdtemp("ctxpack-buildcmd-iid-"), "iid")
        common = ["--no-cache", "--target", target, "--build-arg", "A=%s-arg" % target,
                  "--label", "made.by=test", "--label", "target=%s" % target]
        r = teb.run(["docker", "build", "-q", "-t", ta] + common + [ctx], classic=classic)
        if r.returncode:
            tap.check("%s --target %s: docker build DIR" % (kind, target), False, r.stderr[-1500:])
            continue
        tags.append(ta)
        stats = os.path.join(tap.mkdtemp("ctxpack-buildcmd-stats-"), "stats.json")
        r2 = ctxpack_build(common + ["-t", tb, "-t", tb2, "--iidfile", iid, "--stats=" + stats],
                           ctx, classic)
        if r2.returncode:
            tap.check("%s --target %s: ctxpack build" % (kind, target), False, r2.stderr[-1500:])
            continue
        # base reads a.txt and sub/: only that is sent; final's COPY . sends it all
        with open(stats) as f:
            sent = json.load(f)["archive"]["bytes"]
        whole = len(subprocess.run([CTXPACK, "pack", "--builder=" + ("classic" if classic else
                                    "buildkit"), ctx], capture_output=True).stdout)
        tap.check("%s --target %s: the body %s the whole context (%d of %d bytes)"
                  % (kind, target, "is" if target == "final" else "is smaller than", sent, whole),
                  sent == whole if target == "final" else 0 < sent < whole, (sent, whole))
        tags.extend([tb, tb2])
        ma, mb = teb.built(teb.image_members(ta)), teb.built(teb.image_members(tb))
        tap.check("%s --target %s: ctxpack build builds what docker build DIR builds "
                  "(%d members under ctx/)" % (kind, target, len(ma)), ma and ma == mb,
                  teb.diff(ma, mb))
        ia, ib, ib2 = inspect(ta), inspect(tb), inspect(tb2)
        la, lb = ia["Config"]["Labels"], ib["Config"]["Labels"]
        tap.check("%s --target %s: the same labels (the build arg expanded: arg=%s)"
                  % (kind, target, lb.get("arg")),
                  la == lb and lb.get("arg") == "%s-arg" % target and lb.get("made.by") == "test",
                  (la, lb))
        got = open(iid).read() if os.path.exists(iid) else None
        tap.check("%s --target %s: --iidfile holds the image ID, both tags name it"
                  % (kind, target), got == ib["Id"] == ib2["Id"], (got, ib["Id"], ib2["Id"]))
        if target == "final":
            cached = common[1:]  # without --no-cache: the image just built
            r3 = ctxpack_build(["-q"] + cached, ctx, classic)
            tap.check("%s: -q prints the image ID alone (the cached build's)" % kind,
                      r3.returncode == 0 and r3.stdout.decode().strip() in (ib["Id"],),
                      (r3.stdout, r3.stderr[-500:]))
            r4 = ctxpack_build(["--compress=gzip", "-q"] + cached, ctx, classic)
            tap.check("%s: --compress=gzip builds the same image" % kind,
                      r4.returncode == 0 and r4.stdout.decode().strip() == ib["Id"],
                      (r4.stdout, r4.stderr[-500:]))


FAILURES = [
    ("a COPY of a file .dockerignore excludes", b"FROM scratch\nCOPY secret.txt /\n",
     {"classic": ["COPY failed", "secret.txt"], "BuildKit": ["secret.txt", "not found"]}),
    ("an unknown instruction", b"FROM scratch\nBOGUS x\n",
     {"classic": ["unknown instruction", "BOGUS"], "BuildKit": ["unknown instruction", "BOGUS"]}),
    ("a FROM that cannot be pulled", b"FROM ctxpack.invalid/none:1\nCOPY a.txt /\n",
     {"classic": ["ctxpack.invalid"], "BuildKit": ["ctxpack.invalid"]}),
]


def dockerfile_elsewhere(ctx, classic):
    """-f naming a Dockerfile outside the context, and one in a subdirectory
    of it: the image docker build DIR -f makes (the target reading a.txt
    and sub/; a COPY of the whole context would also copy the Dockerfile
    pack adds from outside, as the pipe does: README)."""
    kind = "classic" if classic else "BuildKit"
    out = os.path.join(tap.mkdtemp("ctxpack-buildcmd-df-"), "outside.Dockerfile")
    inside = os.path.join(ctx, "sub", "x", "in.Dockerfile")
    for path, where in ((out, "outside the context"), (inside, "in a subdirectory")):
        with open(path, "wb") as f:
            f.write(DOCKERFILE)
        ta, tb = ("%s-%s-df-%s-%s" % (TAG, kind.lower(), "out" if path == out else "in", w)
                  for w in ("docker", "ctxpack"))
        args = ["--no-cache", "--target", "base", "-f", path]
        r = teb.run(["docker", "build", "-q", "-t", ta] + args + [ctx], classic=classic)
        r2 = ctxpack_build(args + ["-q", "-t", tb], ctx, classic)
        if r.returncode or r2.returncode:
            tap.check("%s -f %s: both build" % (kind, where), False,
                      (r.stderr[-800:], r2.stderr[-800:]))
            continue
        tags.extend([ta, tb])
        ma, mb = teb.built(teb.image_members(ta)), teb.built(teb.image_members(tb))
        tap.check("%s -f %s: ctxpack build builds what docker build DIR builds (%d members)"
                  % (kind, where, len(ma)), ma and ma == mb, teb.diff(ma, mb))
    os.unlink(inside)


def failures(ctx, classic):
    kind = "classic" if classic else "BuildKit"
    d = tap.mkdtemp("ctxpack-buildcmd-fail-")
    for i, (name, df, words) in enumerate(FAILURES):
        path = os.path.join(d, "f%d.Dockerfile" % i)
        with open(path, "wb") as f:
            f.write(df)
        ref = teb.run(["docker", "build", "-f", path, ctx], classic=classic)
        r = ctxpack_build(["-f", path], ctx, classic)
        e = r.stderr.decode(errors="replace")
        last = [ln for ln in e.splitlines() if ln.startswith("ctxpack: ")]
        tap.check("%s: %s: exit 1 (docker build: %d), the builder's message names it"
                  % (kind, name, ref.returncode),
                  r.returncode == 1 and ref.returncode != 0 and last and
                  all(w in last[-1] for w in words[kind]), e[-1500:])


def skip_unchanged(classic):
    """--skip-unchanged sends nothing exactly when neither the context, the
    Dockerfile nor a build arg changed (and neither --pull nor --no-cache)."""
    kind = "classic" if classic else "BuildKit"
    ctx = tap.tree({"Dockerfile": b"FROM scratch\nARG A\nLABEL a=$A\nCOPY . /ctx/\n",
                    "f.txt": b"one\n", "big.bin": b"x" * 200000},
                   prefix="ctxpack-buildcmd-skip-")
    tag = "%s-skip-%s" % (TAG, kind.lower())
    tags.append(tag)
    iid = os.path.join(tap.mkdtemp("ctxpack-buildcmd-skipiid-"), "iid")
    cache = tap.mkdtemp("ctxpack-buildcmd-xdg-")

    def go(extra=()):
        env = dict(teb.env(classic), XDG_CACHE_HOME=cache)
        r = subprocess.run([CTXPACK, "build", "--builder=" + ("classic" if classic else "buildkit"),
                            "--skip-unchanged", "-t", tag, "--iidfile", iid] + list(extra) + [ctx],
                           env=env, capture_output=True, timeout=300)
        e = r.stderr.decode(errors="replace")
        got = open(iid).read() if os.path.exists(iid) else None
        return r.returncode, "nothing sent" in e, got, e

    steps = [("first build", None, (), False),
             ("unchanged", None, (), True),
             ("one byte of a file changed", lambda: tap.write(ctx, "f.txt", b"two\n"), (), False),
             ("unchanged again", None, (), True),
             ("a build arg changed", None, ("--build-arg", "A=z"), False),
             ("the same build arg", None, ("--build-arg", "A=z"), True),
             ("the Dockerfile changed", lambda: tap.write(ctx, "Dockerfile",
              b"FROM scratch\nARG A\nLABEL a=$A b=1\nCOPY . /ctx/\n"), ("--build-arg", "A=z"),
              False),
             ("the Dockerfile now reads f.txt alone", lambda: tap.write(ctx, "Dockerfile",
              b"FROM scratch\nARG A\nLABEL a=$A b=1\nCOPY f.txt /ctx/\n"), ("--build-arg", "A=z"),
              False),
             # only what the build reads is sent, and digested
             ("a file no instruction reads changed", lambda: tap.write(ctx, "big.bin",
              b"y" * 200000), ("--build-arg", "A=z"), True),
             ("unchanged, --no-cache", None, ("--build-arg", "A=z", "--no-cache"), False)]
    ids = []
    for name, change, extra, skipped in steps:
        if change:
            change()
        rc, sk, got, e = go(extra)
        ids.append(got)
        want_id = (got == ids[-2]) if skipped else True
        tap.check("%s --skip-unchanged: %s: %s" % (kind, name, "nothing sent, the image's ID"
                                                    if skipped else "built"),
                  rc == 0 and sk == skipped and got and got.startswith("sha256:") and want_id,
                  (rc, sk, got, e[-800:]))
    tap.check("%s --skip-unchanged: a changed byte, arg or Dockerfile gave a new image" % kind,
              len({ids[0], ids[2], ids[4], ids[6]}) == 4, ids)


def main():
    names = ["%s: %s" % (k, c) for k in ("classic", "BuildKit")
             for c in ("images agree", "-f elsewhere", "failures", "--skip-unchanged")]
    if not teb.engine_ready(names):
        return tap.finish()
    ctx = tree()
    try:
        for classic in (True, False):
            compare(ctx, classic)
            dockerfile_elsewhere(ctx, classic)
            failures(ctx, classic)
            skip_unchanged(classic)
    finally:
        if tags:
            teb.run(["docker", "rmi", "-f"] + tags, classic=True, timeout=120)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

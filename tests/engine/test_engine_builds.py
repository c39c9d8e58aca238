#!/usr/bin/env python3
"""What a real engine builds from `ctxpack pack DIR | docker build -` is what
it builds from `docker build DIR`, on BuildKit and on the classic builder.

The engine is the project's own (scripts/engine.sh: dockerd 26.1 with
BuildKit, buildx 0.13.1): CTXPACK_ENGINE_HOST names its socket and
CTXPACK_DOCKER_CONFIG the docker configuration holding the buildx plugin
(`eval "$(scripts/engine.sh env --tests)"`; scripts/test.sh does it). Without
them every check is skipped visibly. No container can run there, so each
tree's Dockerfile is FROM scratch and COPYs the context into /ctx/.

For each tree (files, an executable, a symlink, a hard link, an empty
directory; a .dockerignore excluding and re-including; a Dockerfile outside
the context given with -f):
- BuildKit: `docker build --output type=tar,dest=X DIR` and `ctxpack pack
  DIR | docker build --output type=tar,dest=Y -`: the members under ctx/
  agree in type, mode, size, content, link target and mtime;
- classic: `DOCKER_BUILDKIT=0 docker build -t A DIR` and `ctxpack pack
  --builder=classic DIR | DOCKER_BUILDKIT=0 docker build -t B -`: the same,
  read from the layers of `docker save` (a directory the daemon made at
  build time, such as the parent of a re-included file, compared without
  its mtime: `built`);
- the bytes BuildKit reports as "transferring context: N" for both are
  printed as TAP comments at the end.

usage: test_engine_builds.py PATH_TO_CTXPACK"""
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import tap  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
HOST = os.environ.get("CTXPACK_ENGINE_HOST", "")
CONFIG = os.environ.get("CTXPACK_DOCKER_CONFIG", "")
TAG = "ctxpack-engine-test-%d" % os.getpid()
TRANSFER = re.compile(r"transferring context: ([0-9.]+[kMG]?B)")
notes = []
tags = []


def env(classic):
    e = dict(os.environ, DOCKER_HOST=HOST, BUILDX_NO_DEFAULT_ATTESTATIONS="1")
    if CONFIG:
        e["DOCKER_CONFIG"] = CONFIG
    e["DOCKER_BUILDKIT"] = "0" if classic else "1"
    return e


def run(cmd, classic=False, timeout=300):
    return subprocess.run(cmd, env=env(classic), capture_output=True, timeout=timeout)


def members(tf, prefix="ctx/"):
    """{name: (type, mode, size, sha256, link, mtime)} of the members under prefix."""
    out = {}
    for m in tf.getmembers():
        name = m.name[2:] if m.name.startswith("./") else m.name
        if not name.startswith(prefix):
            continue
        name = name.rstrip("/")
        body = ""
        if m.isreg():
            body = hashlib.sha256(tf.extractfile(m).read()).hexdigest()
        out[name] = (m.type, oct(m.mode), m.size if m.isreg() else 0, body, m.linkname,
                     int(m.mtime))
    return out


def image_members(tag):
    """The members under ctx/ of image tag, its layers applied in order (docker save)."""
    r = run(["docker", "save", tag], classic=True, timeout=120)
    if r.returncode:
        raise RuntimeError("docker save %s: %s" % (tag, r.stderr.decode(errors="replace")))
    outer = tarfile.open(fileobj=io.BytesIO(r.stdout))
    manifest = json.load(outer.extractfile("manifest.json"))
    out = {}
    for layer in manifest[0]["Layers"]:
        with tarfile.open(fileobj=outer.extractfile(layer)) as lt:
            out.update(members(lt))
    return out


def transferred(stderr):
    """The bytes of the last 'transferring context' line of a BuildKit build (the
    context itself: the first is the Dockerfile, the second .dockerignore)."""
    found = TRANSFER.findall(stderr.decode(errors="replace"))
    return found[-1] if found else "?"


def diff(a, b):
    lines = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            lines.append("%s: docker %s / pipe %s" % (k, a.get(k), b.get(k)))
    return "\n".join(lines[:20])


def pack(args):
    """ctxpack pack ARGS: (archive bytes, the -f name it asks for or None)."""
    r = subprocess.run([CTXPACK, "pack"] + args, capture_output=True, timeout=120)
    if r.returncode:
        raise RuntimeError("ctxpack pack %s: %s" % (args, r.stderr.decode(errors="replace")))
    m = re.search(r"docker build -f (\S+) -", r.stderr.decode(errors="replace"))
    return r.stdout, (m.group(1) if m else None)


def compare_buildkit(name, ctx, dockerfile, extra):
    work = tap.mkdtemp("ctxpack-engine-out-")
    ref, piped = os.path.join(work, "ref.tar"), os.path.join(work, "pipe.tar")
    fargs = ["-f", dockerfile] if dockerfile else []
    # --no-cache: BuildKit's COPY cache ignores mtimes, so a layer cached
    # from an earlier run of the same contents would carry that run's.
    r = run(["docker", "build", "--no-cache", "--progress=plain"] + fargs +
            ["--output", "type=tar,dest=" + ref, ctx])
    if r.returncode:
        tap.check("%s: BuildKit: docker build DIR" % name, False, r.stderr[-1500:])
        return
    archive, fname = pack(["--builder=buildkit"] + fargs + [ctx])
    r2 = subprocess.run(["docker", "build", "--no-cache", "--progress=plain"] +
                        (["-f", fname] if fname else []) +
                        ["--output", "type=tar,dest=" + piped, "-"], env=env(False),
                        input=archive, capture_output=True, timeout=300)
    if r2.returncode:
        tap.check("%s: BuildKit: ctxpack pack | docker build -" % name, False, r2.stderr[-1500:])
        return
    with tarfile.open(ref) as a, tarfile.open(piped) as b:
        ma, mb = members(a), members(b)
    # BuildKit applies no .dockerignore to a tar read from stdin: what the tar
    # holds only for the builder (the Dockerfile, the .dockerignore naming it)
    # is copied too.  Exactly those members, nothing else, may be extra.
    want = {"ctx/" + (fname if n is None else n) for n in extra}
    got = set(mb) - set(ma)
    same = {k: v for k, v in mb.items() if k not in want}
    if not extra:
        what = "builds what docker build DIR builds"
    else:
        what = "builds what docker build DIR builds, plus %s" % " and ".join(sorted(want))
    tap.check("%s: BuildKit: ctxpack pack | docker build - %s (%d members under ctx/)"
              % (name, what, len(ma)), ma and same == ma and got == want,
              "extra %s, want %s\n%s" % (sorted(got), sorted(want), diff(ma, same)))
    # A tar on stdin is uploaded whole ("load remote build context": no
    # "transferring context" line); DIR is sent by BuildKit's own transfer.
    notes.append("%s: BuildKit: docker build DIR: transferring context: %s; the pipe "
                 "uploads the whole tar, %d bytes" % (name, transferred(r.stderr), len(archive)))


def built(members):
    """The members with the mtime of a directory whose mtime is not the
    context's left out: a COPY's destination made by the build, or the copy
    of the context's root (no tar carries the root: the builder picks a
    time, BuildKit even one of an earlier upload of the same bytes).  The
    tree's own mtimes are whole_seconds' (1700000000 on)."""
    out = {}
    for k, v in members.items():
        if v[0] == b"5" and not 1700000000 <= v[5] < 1700100000:
            v = v[:5] + ("not the context's",)
        out[k] = v
    return out


def compare_classic(name, ctx, dockerfile):
    fargs = ["-f", dockerfile] if dockerfile else []
    ta, tb = "%s-%s-dir" % (TAG, name), "%s-%s-pipe" % (TAG, name)
    r = run(["docker", "build", "--no-cache", "-q", "-t", ta] + fargs + [ctx], classic=True)
    if r.returncode:
        tap.check("%s: classic: docker build DIR" % name, False, r.stderr[-1500:])
        return
    tags.append(ta)
    archive, fname = pack(["--builder=classic"] + fargs + [ctx])
    r2 = subprocess.run(["docker", "build", "--no-cache", "-q", "-t", tb] +
                        (["-f", fname] if fname else []) + ["-"], env=env(True),
                        input=archive, capture_output=True, timeout=300)
    if r2.returncode:
        tap.check("%s: classic: ctxpack pack | docker build -" % name, False, r2.stderr[-1500:])
        return
    tags.append(tb)
    ma, mb = built(image_members(ta)), built(image_members(tb))
    tap.check("%s: classic: ctxpack pack --builder=classic | docker build - builds what "
              "docker build DIR builds (%d members under ctx/)" % (name, len(ma)),
              ma == mb and ma, diff(ma, mb))


def whole_seconds(root):
    """Gives every entry a whole-second mtime: a tar (the docker CLI's as
    ctxpack's) keeps seconds, BuildKit's own transfer of DIR nanoseconds, and
    its --output tar rounds them; trees made in the same second would then
    differ by one second for no reason of ours."""
    t = 1700000000
    for d, dirs, files in os.walk(root, topdown=False):
        for n in files + dirs:
            p = os.path.join(d, n)
            os.utime(p, (t, t), follow_symlinks=False)
            t += 1
    os.utime(root, (t, t))


def trees():
    """(name, context, Dockerfile outside it or None, the members only the
    pipe's BuildKit image has: names, None for the Dockerfile ctxpack adds)"""
    df = b"FROM scratch\nCOPY . /ctx/\n"
    plain = tap.tree({"Dockerfile": df, "app/main.py": b"print('hi')\n",
                      "app/data/blob.bin": os.urandom(300000), "README": b"readme\n"},
                     prefix="ctxpack-engine-plain-")
    os.chmod(os.path.join(plain, "app/main.py"), 0o755)
    os.symlink("app/main.py", os.path.join(plain, "link"))
    os.link(os.path.join(plain, "README"), os.path.join(plain, "README.hard"))
    os.makedirs(os.path.join(plain, "empty/dir"))
    whole_seconds(plain)
    yield "plain", plain, None, ()

    ignored = tap.tree({"Dockerfile": df, "src/a.c": b"int a;\n", "src/b.log": b"log\n",
                        "build/out.o": b"\0" * 5000, "build/keep.txt": b"keep\n",
                        ".git/HEAD": b"ref: refs/heads/main\n", "notes/x.md": b"x\n",
                        "deep/a/b/c.log": b"c\n"},
                       b"*.log\n**/*.log\nbuild\n!build/keep.txt\n.git\nnotes/\n",
                       prefix="ctxpack-engine-ignore-")
    whole_seconds(ignored)
    yield "dockerignore", ignored, None, ()

    # A .dockerignore that excludes the Dockerfile and itself (common): ctxpack
    # must send the Dockerfile for BuildKit to read it, so COPY . gets it.
    selfish = tap.tree({"Dockerfile": df, "a.txt": b"a\n", "b/c.txt": b"c\n"},
                       b"Dockerfile\n.dockerignore\n", prefix="ctxpack-engine-selfish-")
    whole_seconds(selfish)
    yield "ignored-dockerfile", selfish, None, ("Dockerfile",)

    # The Dockerfile outside the context: both the docker CLI (classic) and
    # ctxpack add it under a generated name and append that name to
    # .dockerignore, whose content then differs; this .dockerignore excludes
    # itself so that the classic builder's COPY leaves both out on both sides.
    outside = tap.tree({"lib/x.txt": b"x\n", "lib/y.txt": b"y" * 70000, "top.txt": b"t\n"},
                       b".dockerignore\n*.tmp\n", prefix="ctxpack-engine-outside-")
    tap.write(outside, "skip.tmp", b"tmp\n")
    elsewhere = tap.mkdtemp("ctxpack-engine-df-")
    tap.write(elsewhere, "build.Dockerfile", df)
    whole_seconds(outside)
    yield "outside-dockerfile", outside, os.path.join(elsewhere, "build.Dockerfile"), \
        (None, ".dockerignore")


def main():
    names = ["plain", "dockerignore", "ignored-dockerfile", "outside-dockerfile"]
    if not engine_ready(["%s: %s" % (n, b) for n in names for b in ("BuildKit", "classic")]):
        return tap.finish()
    try:
        for name, ctx, dockerfile, extra in trees():
            compare_buildkit(name, ctx, dockerfile, extra)
            compare_classic(name, ctx, dockerfile)
    finally:
        remove_images()
    return finish()


def engine_ready(checks):
    """Whether the engine answers; if not, checks are skipped visibly (or
    the answer failed)."""
    if not HOST:
        for c in checks:
            tap.skip(c, "no engine (CTXPACK_ENGINE_HOST unset)")
        return False
    if not shutil.which("docker"):
        for c in checks:
            tap.skip(c, "the docker CLI is not installed")
        return False
    v = run(["docker", "version", "--format", "{{.Server.Version}}"], timeout=30)
    tap.check("the engine at %s answers" % HOST, v.returncode == 0, v.stderr)
    return v.returncode == 0


def remove_images():
    if tags:
        run(["docker", "rmi", "-f"] + tags, classic=True, timeout=120)


def finish():
    """tap.finish(), then the notes as TAP comments."""
    rc = tap.finish()
    for n in notes:
        print("# " + n)
    return rc


if __name__ == "__main__":
    sys.exit(main())

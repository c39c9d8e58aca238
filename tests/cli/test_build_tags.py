#!/usr/bin/env python3
"""`ctxpack build -t NAME`: the names the docker CLI refuses before it
sends anything are refused the same way, with the docker CLI's reason
(TAP).

usage: test_build_tags.py PATH_TO_CTXPACK

Each name goes to `docker build -t NAME` (the classic builder's CLI, whose
check runs before the engine is reached: DOCKER_HOST names a socket that
does not exist) and to `ctxpack build -t NAME` with the same DOCKER_HOST.
The docker CLI either refuses it (exit 125, "invalid argument "NAME" for
"-t, --tag" flag: REASON") or goes on to the engine ("Cannot connect");
ctxpack must refuse exactly the same names (exit 2, "invalid tag 'NAME':
REASON", the same REASON) and go on with the others ("cannot reach the
engine").  The names: hand-written edge cases of the reference grammar
(domains, ports, IPv6, separators, tags, digests, lengths, capitals) and
random names built from its pieces and mutated (seed printed; CTXPACK_SEED
repeats a run).  The docker CLI's answers for the hand-written ones are
recorded in tests/vectors/build-tags.json: without the docker CLI (skipped
visibly) they are what ctxpack is compared with, and with it they are
checked to be what it still answers."""
import json
import os
import random
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tap  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
DOCKER = shutil.which("docker")
RECORDED = os.path.join(HERE, "..", "vectors", "build-tags.json")
HEX = "0123456789abcdef"

CASES = [
    "app", "app:1.0", "app:latest", "my-app", "my_app", "my__app", "my___app", "my.app",
    "my..app", "my-.app", "my--app", "-app", "app-", "_app", "app_", ".app", "app.",
    "App", "UPPER:x", "a/B", "a/b/c/d", "a//b", "/app", "app/", "app:", ":app", "app::1",
    "app:Tag_1.0-rc", "app:-x", "app:.x", "app:_x", "app:" + "t" * 128, "app:" + "t" * 129,
    "Foo/bar", "foo.com/bar", "foo.com:5000/bar:1", "localhost/x", "localhost:5000/x",
    "localhost:/x", "localhost:50a0/x", "LOCALHOST/x", "foo-.com/x", "-foo.com/x",
    "foo_bar.com/x", "[::1]:5000/x", "[::1]/x", "[]/x", "[::g]/x", "[::1/x",
    "index.docker.io/x", "docker.io/x", "docker.io/library/x", "registry.example.com/a/b:c",
    "x@sha256:" + "a" * 64, "x@sha256:" + "A" * 64, "x@sha256:" + "a" * 63,
    "x@sha256:abc", "x@sha512:" + "b" * 128, "x@sha384:" + "c" * 96, "x@md5:" + "d" * 32,
    "x@sha256:" + "a" * 64 + "z", "x:1@sha256:" + "e" * 64, "x@SHA256:" + "a" * 64,
    "x@foo+bar:" + "f" * 40, "x@1sha:" + "f" * 40, "x@@sha256:" + "a" * 64,
    "x:1@sha25Z6:" + "ab" * 20, "x:1@Md5:" + "d" * 32, "x@a.b_c-d+e:" + "e" * 32,
    "x@a..b:" + "e" * 32,
    "a" * 64, "a" * 63, "A" * 64, "f" * 64 + ":1", "b" * 246, "b" * 247, "c" * 300,
    "d.com/" + "e" * 249, "d.com/" + "e" * 250, "", " ", "a b", "a\tb", "app!", "émoji",
    "Ä/x", "x/Ä", "x/ǅ", "ǅ", "x/É:1", "Éa/x", "b" * 248, "d.com/" + "e" * 255,
    "d.com/" + "e" * 256, "a:b/c", "a:1/b", "a:b:c", "a@b", "sha256:" + "a" * 64,
]


def docker_answer(name, env):
    """None when the docker CLI goes on to the engine, else its reason."""
    r = subprocess.run([DOCKER, "build", "-t", name, CTX], env=env, capture_output=True,
                       timeout=60)
    err = r.stderr.decode("utf-8", "surrogateescape")
    marker = 'for "-t, --tag" flag: '
    if r.returncode == 125 and marker in err:
        return err.split(marker, 1)[1].split("\n", 1)[0]
    if r.returncode == 1 and "Cannot connect" in err:
        return None
    return "unexpected: exit %d %r" % (r.returncode, err[-300:])


def ctxpack_answer(name, env):
    r = subprocess.run([CTXPACK, "build", "-t", name, CTX], env=env, capture_output=True,
                       timeout=60)
    err = r.stderr.decode("utf-8", "surrogateescape")
    if r.returncode == 2 and err.startswith("ctxpack: invalid tag '"):
        return err.split("': ", 1)[1].split("\n", 1)[0]
    if r.returncode == 1 and "cannot reach the engine" in err:
        return None
    return "unexpected: exit %d %r" % (r.returncode, err[-300:])


def random_name(rng):
    """A name from the grammar's pieces, sometimes mutated."""
    def comp():
        seps = [".", "_", "__", "-", "--", "___", "..", ""]
        parts = ["".join(rng.choice("ab9z") for _ in range(rng.randint(1, 4)))
                 for _ in range(rng.randint(1, 3))]
        return "".join(p + (rng.choice(seps) if i + 1 < len(parts) else "")
                       for i, p in enumerate(parts))
    name = "/".join(comp() for _ in range(rng.randint(1, 3)))
    r = rng.random()
    if r < 0.2:
        name = rng.choice(["reg.io", "localhost", "Reg", "reg.io:5000", "[::1]", "r-g.io",
                           "localhost:5000", "a.b.c"]) + "/" + name
    if rng.random() < 0.4:
        name += ":" + rng.choice(["1", "v1.0", "Latest", "_x", "-x", "x-y.z", "1" * 128])
    if rng.random() < 0.15:
        name += "@" + rng.choice(["sha256:" + "".join(rng.choice(HEX) for _ in range(64)),
                                  "sha256:" + "ab" * 20, "sha512:" + "0" * 128,
                                  "x:" + "9" * 32, "Sha256:" + "a" * 64, "sha-256:" + "b" * 32,
                                  "a.B:" + "c" * 32, "sha384:" + "D" * 96])
    for _ in range(rng.choice([0, 0, 1, 2])):
        i = rng.randrange(len(name) + 1)
        op = rng.random()
        if op < 0.5:
            name = name[:i] + rng.choice("aZ0_.-:/@[]!") + name[i:]
        elif i < len(name):
            name = name[:i] + name[i + 1:]
    return name


def compare(names, env, want_of, label):
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda n: ctxpack_answer(n, env), names))
    bad = [(n, want_of[n], g) for n, g in zip(names, got) if want_of[n] != g]
    refused = sum(1 for n in names if want_of[n] is not None)
    tap.check("%s: %d names, %d refused by the docker CLI: ctxpack refuses the same, "
              "with the same reason" % (label, len(names), refused), not bad, bad[:8])


def main():
    global CTX
    CTX = tap.tree({"Dockerfile": b"FROM scratch\n"}, prefix="ctxpack-tags-")
    sock = os.path.join(tap.mkdtemp("ctxpack-tags-sock-"), "no-engine.sock")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(DOCKER_HOST="unix://" + sock, HOME=tap.mkdtemp("ctxpack-tags-home-"),
               DOCKER_BUILDKIT="0")
    with open(RECORDED) as f:
        recorded = {x["tag"]: x["docker"] for x in json.load(f)}
    tap.check("the recorded answers cover every hand-written name",
              set(CASES) <= set(recorded), sorted(set(CASES) - set(recorded))[:5])
    compare(CASES, env, recorded, "hand-written names, against the recorded docker answers")

    # the refusal comes before any file is read or anything is sent
    r = subprocess.run([CTXPACK, "build", "-t", "ok", "-t", "Bad", "/nonexistent-ctx"],
                       env=env, capture_output=True, timeout=60)
    tap.check("a bad second tag: exit 2 before the context is looked at",
              r.returncode == 2 and b"invalid tag 'Bad'" in r.stderr
              and b"nonexistent" not in r.stderr, (r.returncode, r.stderr))
    r = subprocess.run([CTXPACK, "build", "-t", "a\x1b[31mb", CTX], env=env,
                       capture_output=True, timeout=60)
    tap.check("a control byte in a tag is quoted in the message, not sent to the terminal",
              r.returncode == 2 and b"\x1b" not in r.stderr and b"\\x1b" in r.stderr,
              r.stderr)

    # a byte that is not UTF-8: Go's ToLower makes it U+FFFD, so the
    # docker CLI calls the name not lower case (in the path) or a domain
    # (in the first component); the message shows the byte escaped
    for raw, want in ((b"x/\xff", b"invalid reference format: repository name (x/\\xff) "
                       b"must be lowercase"),
                      (b"\xff/x", b"invalid reference format")):
        r = subprocess.run([os.fsencode(CTXPACK), b"build", b"-t", raw, os.fsencode(CTX)],
                           env=env, capture_output=True, timeout=60)
        tap.check("a tag %r: refused, %r" % (raw, want),
                  r.returncode == 2 and r.stderr.split(b"\n")[0].endswith(b": " + want),
                  r.stderr)
        if DOCKER:
            d = subprocess.run([os.fsencode(DOCKER), b"build", b"-t", raw, os.fsencode(CTX)],
                               env=env, capture_output=True, timeout=60)
            tap.check("a tag %r: the docker CLI says the same (the byte raw)" % raw,
                      d.returncode == 125 and want.replace(b"\\xff", b"\xff") in d.stderr,
                      d.stderr)
    if DOCKER is None:
        tap.skip("the docker CLI still answers as recorded", "docker CLI not installed")
        tap.skip("random names: as the docker CLI", "docker CLI not installed")
        sys.exit(tap.finish())
    with ThreadPoolExecutor(4) as ex:
        live = dict(zip(CASES, ex.map(lambda n: docker_answer(n, env), CASES)))
    drift = [(n, recorded[n], live[n]) for n in CASES if recorded[n] != live[n]]
    tap.check("the docker CLI still answers as recorded (%d names)" % len(CASES), not drift,
              drift[:8])
    seed = int(os.environ.get("CTXPACK_SEED", random.randrange(1 << 30)))
    print("# random names: seed %d (CTXPACK_SEED=%d repeats them)" % (seed, seed))
    rng = random.Random(seed)
    names = sorted({random_name(rng) for _ in range(150)})
    with ThreadPoolExecutor(4) as ex:
        want = dict(zip(names, ex.map(lambda n: docker_answer(n, env), names)))
    compare(names, env, want, "random names (seed %d), against the docker CLI" % seed)
    sys.exit(tap.finish())


if __name__ == "__main__":
    main()

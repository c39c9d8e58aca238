#!/usr/bin/env python3
"""`ctxpack build --stats[=FILE]` against the stand-in engine
(tests/oracle/fakeengine.py): the report `ctxpack pack --stats` writes,
after the build.  As JSON into FILE its totals are `ctxpack stats --json`'s
of the same tree and its archive is the body the engine received
(compression, level, bytes on the wire), on both builders, uncompressed and
gzip; as text it goes to stderr and stdout keeps only what -q prints; no
report for a build that failed; --stats=FILE and --iidfile into one file
is a usage error.

usage: test_build_stats.py PATH_TO_CTXPACK"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import tap  # noqa: E402
from fakeengine import FakeEngine, IMAGE_ID  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])


def clean_env(**kw):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DOCKER_") and k not in ("SOURCE_DATE_EPOCH", "NO_COLOR")}
    env["HOME"] = tap.mkdtemp("ctxpack-bstats-home-")
    env.update(kw)
    return env


def build(eng, args, ctx):
    r = subprocess.run([CTXPACK, "build"] + args + [ctx],
                       env=clean_env(DOCKER_HOST=eng.docker_host), capture_output=True,
                       timeout=60)
    eng.wait_idle()
    return r


def stats_json(args, ctx):
    r = subprocess.run([CTXPACK, "stats", "--json"] + args + [ctx], capture_output=True,
                       env=clean_env(), timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def ctx_tree():
    files = {"Dockerfile": b"FROM scratch\nCOPY . /ctx/\n", "a.txt": b"a\n",
             "sub/b.txt": b"b" * 3000, "skip.log": b"log\n", "logs/x.log": b"x" * 100}
    return tap.tree(files, b"*.log\nlogs\n", prefix="ctxpack-bstats-ctx-")


def test_json():
    ctx = ctx_tree()
    out = tap.mkdtemp("ctxpack-bstats-out-")
    with FakeEngine() as eng:
        for builder in ("buildkit", "classic"):
            for comp, level in (("none", 0), ("gzip", 1)):
                name = "%s, --compress=%s" % (builder, comp)
                f = os.path.join(out, "%s-%s.json" % (builder, comp))
                args = ["--builder=" + builder, "--compress=" + comp]
                if level:
                    args.append("--level=%d" % level)
                n = len(eng.captures)
                r = build(eng, args + ["--stats=" + f], ctx)
                ok = r.returncode == 0 and len(eng.captures) == n + 1 and os.path.exists(f)
                tap.check("%s: built, one body, the report written" % name, ok,
                          r.stderr.decode(errors="replace"))
                if not ok:
                    continue
                got = json.load(open(f))
                want = stats_json(["--builder=" + builder], ctx)
                tap.check("%s: scanned, sent and excluded totals are `ctxpack stats "
                          "--json`'s" % name,
                          all(got.get(k) == want.get(k) for k in ("scanned", "sent", "excluded")),
                          {k: (got.get(k), want.get(k)) for k in ("scanned", "sent", "excluded")})
                body = eng.captures[-1].body
                tap.check("%s: archive records the body the engine received (%d bytes)" %
                          (name, len(body)),
                          got.get("archive") == {"compression": comp, "level": level,
                                                 "bytes": len(body)}, got.get("archive"))
                tap.check("%s: the text report stays off stderr" % name,
                          b"largest files" not in r.stderr, r.stderr)


def test_text():
    ctx = ctx_tree()
    with FakeEngine() as eng:
        r = build(eng, ["-q", "--stats"], ctx)
        e = r.stderr.decode(errors="replace")
        tap.check("--stats -q: stdout holds only the image ID",
                  r.returncode == 0 and r.stdout.decode() == IMAGE_ID + "\n", (r.stdout, e))
        tap.check("--stats: the text report on stderr, the context named, the sent line",
                  "context " in e and ctx in e and "\n  sent " in e and "largest files" in e, e)
        t = subprocess.run([CTXPACK, "stats", "--color=never", ctx], capture_output=True,
                           env=clean_env())
        sent = [x for x in t.stdout.decode().splitlines() if x.startswith("  sent ")]
        tap.check("--stats: its sent line is `ctxpack stats`'s",
                  sent and sent[0] in e.splitlines(), (sent, e))
        r = build(eng, ["--builder=classic", "--stats"], ctx)
        tap.check("--stats, classic: the builder's stream on stdout, the report not in it",
                  r.returncode == 0 and b"Successfully built" in r.stdout and
                  b"largest files" not in r.stdout and b"largest files" in r.stderr,
                  (r.stdout, r.stderr))


def test_failures():
    ctx = ctx_tree()
    out = tap.mkdtemp("ctxpack-bstats-fail-")

    def error_message(h, query):
        h.read_body_into([])
        body = (json.dumps({"errorDetail": {"message": "COPY failed: boom"},
                            "error": "COPY failed: boom"}) + "\r\n").encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    with FakeEngine() as eng:
        eng.build_handler = error_message
        f = os.path.join(out, "s.json")
        r = build(eng, ["--builder=classic", "--stats=" + f], ctx)
        tap.check("a failed build: exit 1, the builder's message, no report written",
                  r.returncode == 1 and b"COPY failed: boom" in r.stderr and
                  not os.path.exists(f), (r.stderr, os.path.exists(f)))
        same = os.path.join(out, "same")
        n = len(eng.captures)
        r = build(eng, ["--stats=" + same, "--iidfile", same], ctx)
        tap.check("--stats=FILE and --iidfile FILE the same: usage error (exit 2), nothing sent",
                  r.returncode == 2 and len(eng.captures) == n and b"--stats" in r.stderr,
                  r.stderr)


def main():
    test_json()
    test_text()
    test_failures()
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

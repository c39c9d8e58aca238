#!/usr/bin/env python3
"""The library's build (ctxpack_engine_build, ctxpack_engine_ping) against the
stand-in engine (tests/oracle/fakeengine.py), through tests/lib/build_lib.c:
for the same options the engine receives the same request (path, query,
headers) and the same body, byte for byte, as from `ctxpack build`; the
image ID comes back; the classic builder's text and BuildKit's decoded trace
(recorded streams, tests/vectors/bktrace) reach the callback; a failed build
returns an error with the builder's message; a refused request, an engine
that is not there, a refused option and a callback that stops are errors
naming what happened.

The example examples/libctxpack/build_image.c builds what `ctxpack build`
builds.

usage: test_build_lib.py BUILD_LIB CTXPACK [BUILD_IMAGE]"""
import gzip
import json
import os
import socket
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import tap  # noqa: E402
from fakeengine import FakeEngine, IMAGE_ID  # noqa: E402

BUILD_LIB = os.path.abspath(sys.argv[1])
CTXPACK = os.path.abspath(sys.argv[2])
BUILD_IMAGE = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
VECTORS = os.path.join(HERE, "..", "vectors", "bktrace")


def clean_env(**kw):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DOCKER_") and k != "SOURCE_DATE_EPOCH"}
    env["HOME"] = tap.mkdtemp("ctxpack-buildlib-home-")
    env["XDG_CACHE_HOME"] = tap.mkdtemp("ctxpack-buildlib-xdg-")
    env.update(kw)
    return env


class Run:
    def __init__(self, p):
        self.returncode, self.stdout = p.returncode, p.stdout
        lines = p.stderr.decode(errors="replace").strip().splitlines()
        try:
            self.res = json.loads(lines[-1])
        except (ValueError, IndexError):
            self.res = {"rc": None, "stderr": p.stderr.decode(errors="replace")}

    def __repr__(self):
        return "exit %s, %r, stdout %r" % (self.returncode, self.res, self.stdout[:300])


def lib(eng, args, ctx, env=None):
    e = env or clean_env(DOCKER_HOST=eng.docker_host)
    p = subprocess.run([BUILD_LIB] + args + [ctx], env=e, capture_output=True, timeout=60)
    if eng:
        eng.wait_idle()
    return Run(p)


def cli(eng, args, ctx, env=None):
    e = env or clean_env(DOCKER_HOST=eng.docker_host)
    r = subprocess.run([CTXPACK, "build"] + args + [ctx], env=e, capture_output=True, timeout=60)
    if eng:
        eng.wait_idle()
    return r


def ctx_tree():
    return tap.tree({"Dockerfile": b"FROM scratch\nCOPY . /ctx/\n", "a.txt": b"a\n",
                     "sub/b.txt": b"b" * 3000, "skip.log": b"log\n"}, b"*.log\n",
                    prefix="ctxpack-buildlib-ctx-")


def same_request(name, eng, args, ctx, env=None, gz=False):
    """The library and the program with args: the same request and body."""
    n = len(eng.captures)
    r = lib(eng, args, ctx, env)
    c = cli(eng, args, ctx, env)
    caps = eng.captures[n:]
    ok = len(caps) == 2 and r.res.get("rc") == 0 and c.returncode == 0
    tap.check("%s: both built" % name, ok, (r, c.stderr, caps))
    if not ok:
        return r, None
    a, b = caps
    tap.check("%s: the same path and query" % name, eng.paths[-2] == eng.paths[-1] and
              a.query == b.query, (eng.paths[-2:], a.query, b.query))
    tap.check("%s: the same headers" % name, a.headers == b.headers, (a.headers, b.headers))
    if gz:
        tap.check("%s: the same body (gzip, decompressed), complete" % name,
                  a.complete and b.complete and
                  gzip.decompress(a.body) == gzip.decompress(b.body),
                  (len(a.body), len(b.body)))
    else:
        tap.check("%s: the same body, byte for byte, complete" % name,
                  a.complete and b.complete and a.body == b.body, (len(a.body), len(b.body)))
    tap.check("%s: sent_bytes is the body's length" % name,
              r.res.get("sent_bytes") == len(a.body), (r.res, len(a.body)))
    return r, a


def test_same_request():
    ctx = ctx_tree()
    with FakeEngine() as eng:
        env = clean_env(DOCKER_HOST=eng.docker_host)
        args = ["-t", "one:1", "-t", "two", "--build-arg", "X=1", "--build-arg", "BAR",
                "--build-arg", "X=2", "--label", "b=2", "--label", "a=1 2", "--target", "final",
                "--platform", "Linux/AMD64", "--network", "none", "--no-cache", "--pull",
                "--builder=classic"]
        r, cap = same_request("classic, every option", eng, args, ctx, env)
        tap.check("classic: the image ID, the stream's text through the callback",
                  r.res.get("image_id") == IMAGE_ID and r.stdout ==
                  b"Step 1/1 : FROM scratch\n ---> \nSuccessfully built 0123456789ab\n" and
                  r.res.get("text_events") == 3 and r.res.get("trace_events") == 0, r)
        tap.check("the API version and where the engine was found",
                  r.res.get("api_version") == "1.45" and
                  r.res.get("where") == eng.docker_host + " (DOCKER_HOST)", r.res)
        tap.check("tar_bytes: the uncompressed archive", cap is not None and
                  r.res.get("tar_bytes") == len(cap.body), r.res)

        df = os.path.join(tap.mkdtemp("ctxpack-buildlib-df-"), "x.Dockerfile")
        with open(df, "wb") as f:
            f.write(b"FROM scratch\nCOPY a.txt /\n")
        r, _ = same_request("BuildKit, -f outside the context, -q", eng, ["-f", df, "-q"], ctx,
                            env)
        tap.check("-q: the image ID", r.res.get("image_id") == IMAGE_ID, r.res)
        tap.check("COPY a.txt: only what the build reads sent (only_read), no whole_why",
                  r.res.get("only_read") is True and r.res.get("whole_why") == "" and
                  r.res.get("tar_bytes") == len(eng.captures[-1].body), r.res)
        r, _ = same_request("--whole-context", eng, ["-f", df, "--whole-context"], ctx, env)
        tap.check("--whole-context: not only_read, no whole_why, the whole context's size",
                  r.res.get("only_read") is False and r.res.get("whole_why") == "" and
                  r.res.get("tar_bytes") > len(eng.captures[-3].body), r.res)
        with open(df, "wb") as f:
            f.write(b"FROM scratch\nCOPY a.txt /\nBOGUS x\n")
        r, _ = same_request("a Dockerfile ctxpack cannot read", eng, ["-f", df], ctx, env)
        tap.check("... the whole context, whole_why naming the line",
                  r.res.get("only_read") is False and
                  "unknown instruction: BOGUS" in r.res.get("whole_why", ""), r.res)
        same_request("BuildKit, gzip level 1", eng, ["--compress=gzip", "--level=1"], ctx, env,
                     gz=True)
        same_request("classic, zstd", eng, ["--builder=classic", "--compress=zstd"], ctx, env)
        same_request("--skip-unchanged (no such image: built, the same labels)", eng,
                     ["--skip-unchanged", "-t", "x:1", "--label", "mine=1"], ctx, env)

        # config.json's proxies, from the docker_config the caller hands in
        cfg = tap.mkdtemp("ctxpack-buildlib-cfg-")
        with open(os.path.join(cfg, "config.json"), "w") as f:
            json.dump({"proxies": {"default": {"httpProxy": "http://d:1", "ftpProxy": "f"},
                                   eng.docker_host: {"httpProxy": "http://p:3128",
                                                     "noProxy": "a,b", "allProxy": "s"}}}, f)
        penv = dict(env, DOCKER_CONFIG=cfg)
        for k in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "FTP_PROXY", "ALL_PROXY"):
            penv.pop(k, None)
            penv.pop(k.lower(), None)
        r, cap = same_request("DOCKER_CONFIG with proxies, --build-arg HTTP_PROXY=x and a bare "
                              "no_proxy, --skip-unchanged", eng,
                              ["--builder=classic", "--build-arg", "HTTP_PROXY=x", "--build-arg",
                               "no_proxy", "--skip-unchanged", "-t", "p:1"], ctx, penv)
        q = urllib.parse.parse_qs(cap.query) if cap else {}
        want = {"HTTP_PROXY": "x", "http_proxy": "http://p:3128", "NO_PROXY": "a,b",
                "no_proxy": None, "ALL_PROXY": "s", "all_proxy": "s"}
        tap.check("... the buildargs: the engine's entry of the proxies, the build args winning",
                  json.loads(q.get("buildargs", ["null"])[0]) == want, q)
        with open(os.path.join(cfg, "config.json"), "w") as f:
            f.write('{"proxies": {"default": {"httpProxy": true}}}')
        n = len(eng.captures)
        r = lib(eng, [], ctx, penv)
        tap.check("proxies the docker CLI cannot decode: an error naming the file, nothing sent",
                  r.returncode == 1 and len(eng.captures) == n and
                  os.path.join(cfg, "config.json") in r.res.get("message", "") and
                  "httpProxy is not a string" in r.res.get("message", ""), r)


def test_refusals():
    ctx = ctx_tree()
    with FakeEngine() as eng:
        r = lib(eng, ["--compress=zstd"], ctx)
        tap.check("zstd with BuildKit: EINVAL, the program's reason, nothing sent",
                  r.returncode == 1 and r.res.get("errno") == os.strerror(22) and
                  "zstd" in r.res.get("message", "") and not eng.captures, r)
        for args, words in ((["--level", "5"], "needs compression"),
                            (["--compress=gzip", "--level", "12"], "out of range")):
            r = lib(eng, args, ctx)
            tap.check("%s: EINVAL before the engine is asked, nothing sent" % " ".join(args),
                      r.returncode == 1 and r.res.get("errno") == os.strerror(22) and
                      words in r.res.get("message", "") and not eng.captures, r)
            if args == ["--level", "5"]:
                continue  # ctxpack build: --level alone is gzip at that level (below)
            c = cli(eng, args, ctx)
            tap.check("ctxpack build %s: the same reason, a usage error (exit 2), nothing sent"
                      % " ".join(args), c.returncode == 2 and words.encode() in c.stderr and
                      not eng.captures, c.stderr)
        r = lib(eng, ["--skip-unchanged"], ctx)
        tap.check("skip_unchanged without a tag: EINVAL, nothing sent",
                  r.returncode == 1 and r.res.get("errno") == os.strerror(22) and
                  "needs a tag" in r.res.get("message", "") and not eng.captures, r)
        c = cli(eng, ["--level", "5"], ctx)
        tap.check("ctxpack build --level 5 (no --compress): the body gzip at that level",
                  c.returncode == 0 and len(eng.captures) == 1 and
                  eng.captures[0].body[:2] == b"\x1f\x8b", c.stderr)


def stream_reply(h, lines):
    body = b"".join(lines)
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)
    h.wfile.flush()


def replay(path):
    with open(path, "rb") as f:
        lines = [x if x.endswith(b"\n") else x + b"\n" for x in f.read().splitlines(True)]

    def handler(h, query):
        sink = []
        h.record(query, b"".join(sink), h.read_body_into(sink))
        stream_reply(h, lines)
    return handler


def test_answers():
    ctx = ctx_tree()

    def error_message(h, query):
        h.read_body_into([])
        stream_reply(h, [b'{"stream":"Step 1/2 : FROM scratch\\n"}\r\n',
                         b'{"errorDetail":{"message":"COPY failed: boom"},'
                         b'"error":"COPY failed: boom"}\r\n'])

    def refuse(h, query):
        h.read_body_into([])
        h._send_json(500, {"message": "no such thing as 500"})
        h.close_connection = True

    with FakeEngine() as eng:
        eng.build_handler = error_message
        r = lib(eng, ["--builder=classic"], ctx)
        tap.check("a failed build: EIO, failed, the builder's message, its text shown",
                  r.returncode == 1 and r.res.get("errno") == os.strerror(5) and
                  r.res.get("failed") is True and r.res.get("message") == "COPY failed: boom" and
                  r.stdout == b"Step 1/2 : FROM scratch\n", r)
        eng.build_handler = refuse
        r = lib(eng, ["--builder=classic"], ctx)
        tap.check("a refused request: an error quoting the engine's message, not 'failed'",
                  r.returncode == 1 and r.res.get("failed") is False and
                  "refused the build (500 Internal Server Error): no such thing as 500" in
                  r.res.get("message", ""), r)

        eng.build_handler = replay(os.path.join(VECTORS, "ok.stream"))
        r = lib(eng, [], ctx)
        tap.check("BuildKit's trace (ok.stream): decoded, every step completed, the image ID",
                  r.returncode == 0 and r.res.get("trace_events", 0) > 1 and
                  r.res.get("steps", 0) > 0 and r.res.get("steps") == r.res.get("completed") and
                  r.res.get("image_id", "").startswith("sha256:") and
                  b"DONE" in r.stdout, r)
        eng.build_handler = replay(os.path.join(VECTORS, "copy-fail.stream"))
        r = lib(eng, [], ctx)
        tap.check("BuildKit's failing step (copy-fail.stream): named to the callback, EIO, "
                  "the builder's message",
                  r.returncode == 1 and r.res.get("failed") is True and
                  r.res.get("failed_step") == "[1/1] COPY missing.txt /m" and
                  "not found" in r.res.get("message", "") and b"#3 ERROR:" in r.stdout, r)
        r = lib(eng, ["--stop-after", "1"], ctx)
        tap.check("a callback that stops: ECANCELED, not failed",
                  r.returncode == 1 and r.res.get("errno") == os.strerror(125) and
                  r.res.get("failed") is False, r)


def test_where():
    ctx = ctx_tree()
    d = tap.mkdtemp("ctxpack-buildlib-sock-")
    path = os.path.join(d, "dead.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()
    r = lib(None, [], ctx, env=clean_env(DOCKER_HOST="unix://" + path))
    tap.check("connection refused: an error naming the socket, DOCKER_HOST and the cause",
              r.returncode == 1 and path in r.res.get("message", "") and
              "DOCKER_HOST" in r.res.get("message", "") and
              "refused" in r.res.get("message", ""), r)
    r = lib(None, [], ctx, env=clean_env(HOME=d))
    tap.check("no engine anywhere: the error names the default socket",
              r.returncode == 1 and
              "unix:///var/run/docker.sock (the default)" in r.res.get("message", ""), r)
    r = lib(None, ["--ping"], ctx, env=clean_env(DOCKER_HOST="unix://" + path))
    tap.check("ctxpack_engine_ping, nobody listening: an error naming the socket",
              r.returncode == 1 and path in r.res.get("message", ""), r)
    with FakeEngine() as eng:
        r = lib(None, ["--ping", "--host", eng.docker_host], ctx,
                env=clean_env(DOCKER_HOST="unix:///nonexist"))
        tap.check("ctxpack_engine_ping: --host wins, the API version ctxpack speaks (1.45)",
                  r.returncode == 0 and r.res.get("api_version") == "1.45" and
                  r.res.get("where") == eng.docker_host + " (--host)", r)
        eng.api_version = "1.41"
        r = lib(eng, ["--ping"], ctx)
        tap.check("ctxpack_engine_ping: an older engine's version (1.41)",
                  r.returncode == 0 and r.res.get("api_version") == "1.41", r)
        r = lib(eng, [], ctx)
        tap.check("the build speaks the engine's version", r.returncode == 0 and
                  eng.paths and eng.paths[-1].startswith("/v1.41/build?"), (eng.paths, r))
    # ssh:// runs ssh from PATH: one that fails as ssh fails on an unknown host
    bindir = tap.mkdtemp("ctxpack-buildlib-ssh-")
    with open(os.path.join(bindir, "ssh"), "w") as f:
        f.write("#!/bin/sh\necho 'ssh: Could not resolve hostname host' >&2\nexit 255\n")
    os.chmod(os.path.join(bindir, "ssh"), 0o755)
    env = clean_env(DOCKER_HOST="ssh://me@host")
    env["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    r = lib(None, [], ctx, env=env)
    m = r.res.get("message", "")
    tap.check("ssh://: ssh's failure in the message, with the command it ran",
              r.returncode == 1 and "Could not resolve hostname host" in m and
              "-l me -- host docker system dial-stdio" in m, r)


def test_example():
    if not BUILD_IMAGE:
        tap.skip("the example build_image", "not given")
        return
    ctx = ctx_tree()
    with FakeEngine() as eng:
        env = clean_env(DOCKER_HOST=eng.docker_host)
        p = subprocess.run([BUILD_IMAGE, "-b", "classic", "-t", "ex:1", ctx], env=env,
                           capture_output=True, timeout=60)
        eng.wait_idle()
        c = cli(eng, ["--builder=classic", "-t", "ex:1"], ctx, env)
        caps = eng.captures
        tap.check("the example build_image: the image ID on stdout, the builder's text on "
                  "stderr, the request and body `ctxpack build`'s",
                  p.returncode == 0 and p.stdout.decode() == IMAGE_ID + "\n" and
                  b"Successfully built" in p.stderr and c.returncode == 0 and
                  len(caps) == 2 and caps[0].query == caps[1].query and
                  caps[0].body == caps[1].body, (p.returncode, p.stdout, p.stderr, caps))


def main():
    test_same_request()
    test_example()
    test_refusals()
    test_answers()
    test_where()
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

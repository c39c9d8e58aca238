#!/usr/bin/env python3
"""`ctxpack build` against a stand-in engine (tests/oracle/fakeengine.py over
a unix socket): the exact request (path with the negotiated API version,
query parameters, headers, the body byte for byte `ctxpack pack`'s archive),
the output, and what a real engine cannot be made to do on demand:
connection refused, the engine dying mid-upload, a slow reader, 4xx/5xx
answers, an answer cut mid-stream, a malformed chunk or message, SIGINT.
Also where the engine is looked for (DOCKER_HOST, --host, DOCKER_CONTEXT,
config.json's currentContext) and what is refused (npipe://, --secret).
TLS and ssh:// are tests/cli/test_build_remote.py's.

usage: test_build.py PATH_TO_CTXPACK"""
import gzip
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import tap  # noqa: E402
from fakeengine import FakeEngine, IMAGE_ID, cut_answer, die_mid_upload, refuse  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])


def clean_env(**kw):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DOCKER_") and k != "SOURCE_DATE_EPOCH"}
    env["HOME"] = tap.mkdtemp("ctxpack-build-home-")
    env.update(kw)
    return env


def build(eng, args, ctx, env=None, timeout=60, **kw):
    e = env or clean_env(DOCKER_HOST=eng.docker_host)
    r = subprocess.run([CTXPACK, "build"] + args + [ctx], env=e, capture_output=True,
                       timeout=timeout, **kw)
    if eng:
        eng.wait_idle()
    return r


def pack(args, ctx):
    r = subprocess.run([CTXPACK, "pack"] + args + [ctx], capture_output=True, timeout=60,
                       env=clean_env())
    assert r.returncode == 0, r.stderr
    return r.stdout


def err(r):
    return r.stderr.decode(errors="replace")


def ctx_tree(big=0):
    files = {"Dockerfile": b"FROM scratch\nCOPY . /ctx/\n", "a.txt": b"a\n",
             "sub/b.txt": b"b" * 3000, "skip.log": b"log\n"}
    if big:
        files["big.bin"] = os.urandom(big)
    return tap.tree(files, b"*.log\n", prefix="ctxpack-build-ctx-")


def stream_reply(h, lines, chunked=True):
    body = b"".join((json.dumps(x) + "\r\n").encode() for x in lines)
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    if chunked:
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    else:
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
    h.wfile.flush()


def test_request():
    ctx = ctx_tree()
    with FakeEngine() as eng:
        env = clean_env(DOCKER_HOST=eng.docker_host, FOO="from-env")
        env.pop("BAR", None)
        r = build(eng, ["-t", "one:1", "-t", "two", "--build-arg", "X=1", "--build-arg", "FOO",
                        "--build-arg", "BAR", "--build-arg", "X=2", "--label", "b=2",
                        "--label", "a=1 2", "--target", "final", "--platform", "Linux/AMD64",
                        "--network", "none", "--no-cache", "--pull", "--builder=classic"],
                  ctx, env=env)
        tap.check("classic build: exit 0", r.returncode == 0, err(r))
        cap = eng.captures[-1] if eng.captures else None
        tap.check("one POST /build received", cap is not None and cap.complete, eng.captures)
        if not cap:
            return
        q = urllib.parse.parse_qs(cap.query, keep_blank_values=True)
        want = {"buildargs": ['{"BAR":null,"FOO":"from-env","X":"2"}'],
                "dockerfile": ["Dockerfile"], "labels": ['{"a":"1 2","b":"2"}'],
                "networkmode": ["none"], "nocache": ["1"], "platform": ["linux/amd64"],
                "pull": ["1"], "rm": ["1"], "t": ["one:1", "two"], "target": ["final"],
                "version": ["1"]}
        tap.check("the query parameters as docker build sends them", q == want,
                  "%r\nwant %r" % (q, want))
        keys = [kv.split("=", 1)[0] for kv in cap.query.split("&")]
        tap.check("the query's keys in url.Values.Encode order", keys == sorted(keys), keys)
        hd = {k.lower(): v for k, v in cap.headers.items()}
        archive = pack(["--builder=classic"], ctx)
        tap.check("Content-Type application/x-tar, Content-Length the archive's size",
                  hd.get("content-type") == "application/x-tar" and
                  hd.get("content-length") == str(len(archive)) and
                  "transfer-encoding" not in hd, hd)
        tap.check("the body is `ctxpack pack --builder=classic`'s archive byte for byte",
                  cap.body == archive, "%d bytes, pack %d" % (len(cap.body), len(archive)))
        out = r.stdout.decode()
        tap.check("the classic builder's stream shown on stdout as docker build shows it",
                  out == "Step 1/1 : FROM scratch\n ---> \nSuccessfully built 0123456789ab\n",
                  repr(out))

        # BuildKit (the default), the Dockerfile outside the context
        df = os.path.join(tap.mkdtemp("ctxpack-build-df-"), "x.Dockerfile")
        with open(df, "wb") as f:
            f.write(b"FROM scratch\nCOPY a.txt /\n")
        r = build(eng, ["-f", df, "-q"], ctx)
        cap = eng.captures[-1]
        q = urllib.parse.parse_qs(cap.query)
        archive = pack(["--used", "-f", df], ctx)
        tap.check("BuildKit: version=2, q=1, dockerfile the name pack adds it under",
                  q.get("version") == ["2"] and q.get("q") == ["1"] and
                  q.get("dockerfile", [""])[0].startswith(".dockerfile.") and
                  ("-f " + q["dockerfile"][0]) in err(pack_err(["-f", df], ctx)), q)
        tap.check("BuildKit: the body is `ctxpack pack --used -f OUTSIDE`'s archive byte for "
                  "byte (only what the build reads)",
                  cap.body == archive and len(archive) < len(pack(["-f", df], ctx)),
                  "%d / %d" % (len(cap.body), len(archive)))
        names = [m.name for m in tarfile.open(fileobj=io.BytesIO(cap.body))]
        tap.check("... a.txt, the Dockerfile and the ignore file; not sub/b.txt",
                  "a.txt" in names and "sub/b.txt" not in names and ".dockerignore" in names,
                  names)
        r2 = build(eng, ["-f", df, "-q", "--whole-context"], ctx)
        tap.check("--whole-context: the body is `ctxpack pack -f OUTSIDE`'s archive",
                  r2.returncode == 0 and eng.captures[-1].body == pack(["-f", df], ctx),
                  err(r2))
        for kind, text, why in (
                ("an instruction ctxpack does not know", b"FROM scratch\nCOPY a.txt /\nBOGUS x\n",
                 "unknown instruction: BOGUS"),
                ("a # syntax= line (another frontend decides)",
                 b"# syntax=example.com/frontend\nFROM scratch\nCOPY a.txt /\n",
                 "names the frontend BuildKit runs")):
            with open(df, "wb") as f:
                f.write(text)
            r2 = build(eng, ["-f", df], ctx)
            e2 = err(r2)
            tap.check("%s: the whole context is sent, saying why" % kind,
                      r2.returncode == 0 and eng.captures[-1].body == pack(["-f", df], ctx) and
                      "the whole context is sent" in e2 and why in e2, e2)
        tap.check("-q: nothing but the image ID on stdout (the fake's aux ID)",
                  r.returncode == 0 and r.stdout.decode() == IMAGE_ID + "\n",
                  (r.stdout, err(r)))
        tap.check("the request path carries the API version ctxpack speaks (1.45 < the "
                  "engine's 1.47)", eng.paths[-1].startswith("/v1.45/build?"), eng.paths[-1:])

        # a Dockerfile inside the context, not at its root
        tap.write(ctx, "sub/x.Dockerfile", b"FROM scratch\n")
        r = build(eng, ["-f", os.path.join(ctx, "sub/x.Dockerfile")], ctx)
        q = urllib.parse.parse_qs(eng.captures[-1].query)
        tap.check("-f DIR/sub/x.Dockerfile: dockerfile=sub/x.Dockerfile, as the docker CLI "
                  "sends it", r.returncode == 0 and q.get("dockerfile") == ["sub/x.Dockerfile"],
                  (q, err(r)))
        os.unlink(os.path.join(ctx, "sub/x.Dockerfile"))

        # gzip: chunked, the body pack's gzip archive
        r = build(eng, ["--compress=gzip", "--level=1"], ctx)
        cap = eng.captures[-1]
        hd = {k.lower(): v for k, v in cap.headers.items()}
        archive = pack(["--compress=gzip", "--level=1"], ctx)
        tap.check("--compress=gzip: chunked, the body pack's gzip archive, no Content-Encoding",
                  r.returncode == 0 and hd.get("transfer-encoding") == "chunked" and
                  "content-length" not in hd and "content-encoding" not in hd and
                  gzip.decompress(cap.body) == gzip.decompress(archive),
                  (hd, err(r)))
        before = len(eng.captures)
        r = build(eng, ["--compress=zstd"], ctx)
        tap.check("--compress=zstd with BuildKit: refused (exit 2), nothing sent",
                  r.returncode == 2 and "zstd" in err(r) and len(eng.captures) == before, err(r))

        # iidfile
        iid = os.path.join(tap.mkdtemp("ctxpack-build-iid-"), "iid")
        r = build(eng, ["--iidfile", iid], ctx)
        got = open(iid).read() if os.path.exists(iid) else None
        tap.check("--iidfile: the image ID, no newline", r.returncode == 0 and got == IMAGE_ID,
                  (got, err(r)))


def pack_err(args, ctx):
    return subprocess.run([CTXPACK, "pack"] + args + [ctx], capture_output=True, env=clean_env())


def test_versions():
    ctx = ctx_tree()
    for ver, want in (("1.41", "/v1.41/build"), (None, "/v1.24/build")):
        with FakeEngine() as eng:
            eng.api_version = ver
            r = build(eng, [], ctx)
            tap.check("/_ping API-Version %s: the request goes to %s" % (ver, want),
                      r.returncode == 0 and eng.paths and eng.paths[-1].startswith(want + "?"),
                      (eng.paths, err(r)))


def test_failures():
    ctx = ctx_tree(big=3 << 20)

    # connection refused: a socket file nobody listens on
    d = tap.mkdtemp("ctxpack-build-sock-")
    path = os.path.join(d, "dead.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()
    r = build(None, [], ctx, env=clean_env(DOCKER_HOST="unix://" + path))
    tap.check("connection refused: exit 1, one line naming the socket, DOCKER_HOST and the cause",
              r.returncode == 1 and err(r).count("\n") == 1 and path in err(r) and
              "DOCKER_HOST" in err(r) and "refused" in err(r), err(r))
    r = build(None, [], ctx, env=clean_env(HOME=d))
    tap.check("no engine anywhere: names the default socket",
              r.returncode == 1 and "unix:///var/run/docker.sock (the default)" in err(r), err(r))
    os.makedirs(os.path.join(d, ".docker"))
    with open(os.path.join(d, ".docker", "config.json"), "w") as f:
        f.write(" \n")
    r = build(None, [], ctx, env=clean_env(HOME=d))
    tap.check("an empty config.json is no configuration (as the docker CLI reads it)",
              r.returncode == 1 and "unix:///var/run/docker.sock (the default)" in err(r), err(r))

    def slow(h, query):
        sink, n = [], 0
        while True:
            b = h.rfile.read(min(32768, int(h.headers["Content-Length"]) - n))
            if not b:
                break
            sink.append(b)
            n += len(b)
            time.sleep(0.005)
        h.record(query, b"".join(sink), True)
        stream_reply(h, [{"stream": "ok\n"}, {"aux": {"ID": IMAGE_ID}}])

    def bad_chunk(h, query):
        h.read_body_into([])
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"zz\r\nhello\r\n0\r\n\r\n")
        h.close_connection = True

    def bad_json(h, query):
        h.read_body_into([])
        h.send_response(200)
        h.send_header("Content-Length", "14")
        h.end_headers()
        h.wfile.write(b"{\"stream\":\"x\n\n")
        h.close_connection = True

    def error_message(h, query):
        h.read_body_into([])
        stream_reply(h, [{"stream": "Step 1/2 : FROM scratch\n"},
                         {"errorDetail": {"message": "COPY failed: boom"},
                          "error": "COPY failed: boom"}], chunked=False)

    def bad_status(h, query):
        h.read_body_into([])
        h.wfile.write(b"HTTP/1.1 2x0 OK\r\n\r\n")
        h.close_connection = True

    cases = [
        ("the engine dies mid-upload", die_mid_upload, 1,
         ["closed the connection while the context was sent"]),
        ("400 before reading the body", refuse(400, False), 1,
         ["refused the build (400 Bad Request): no such thing as 400"]),
        ("500 after reading the body", refuse(500, True), 1,
         ["refused the build (500 Internal Server Error): no such thing as 500"]),
        ("an answer cut mid-stream", cut_answer, 1,
         ["closed the connection in the middle of its answer"]),
        ("a malformed chunk", bad_chunk, 1, ["a bad chunk"]),
        ("a message that is not JSON", bad_json, 1, ["is not a JSON message"]),
        ("a status line that is not HTTP", bad_status, 1, ["is not HTTP/1.x"]),
        ("the builder's error message", error_message, 1, ["ctxpack: COPY failed: boom\n"]),
        ("a slow reader (3 MB in 32 KB reads)", slow, 0, []),
    ]
    for name, handler, rc, words in cases:
        with FakeEngine() as eng:
            eng.build_handler = handler
            t0 = time.monotonic()
            try:
                r = build(eng, ["--builder=classic"], ctx, timeout=60)
            except subprocess.TimeoutExpired:
                tap.check("%s: no hang" % name, False, "timed out")
                continue
            e = err(r)
            ok = r.returncode == rc and all(w in e for w in words) and \
                (rc == 0 or e.startswith("ctxpack: ")) and "AddressSanitizer" not in e
            tap.check("%s: exit %d%s" % (name, rc, ", '%s'" % words[0].strip() if words else ""),
                      ok, "rc %s, %.1f s: %s" % (r.returncode, time.monotonic() - t0, e))
            if handler is slow:
                archive = pack(["--builder=classic"], ctx)
                tap.check("a slow reader gets the whole archive",
                          eng.captures and eng.captures[-1].body == archive,
                          len(eng.captures[-1].body) if eng.captures else None)
                tap.check("a slow reader: the stream shown", r.stdout == b"ok\n", r.stdout)


def test_sigint():
    ctx = ctx_tree(big=8 << 20)
    got = threading.Event()

    def stall(h, query):
        h.rfile.read(65536)
        got.set()
        time.sleep(1)
        sink = []
        complete = h.read_body_into(sink)
        h.record(query, b"".join(sink), complete)
        h.close_connection = True

    with FakeEngine() as eng:
        eng.build_handler = stall
        p = subprocess.Popen([CTXPACK, "build", ctx], env=clean_env(DOCKER_HOST=eng.docker_host),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        got.wait(20)
        p.send_signal(signal.SIGINT)
        out, e = p.communicate(timeout=30)
        eng.wait_idle(10)
        tap.check("SIGINT during the upload: killed by SIGINT (a shell says 130), the "
                  "engine's body cut", p.returncode == -signal.SIGINT and eng.captures and
                  not eng.captures[-1].complete, (p.returncode, e, eng.captures))


def test_where():
    ctx = ctx_tree()
    with FakeEngine() as eng:
        cfg = tap.mkdtemp("ctxpack-build-cfg-")
        meta = os.path.join(cfg, "contexts", "meta", "0" * 64)
        os.makedirs(meta)
        with open(os.path.join(meta, "meta.json"), "w") as f:
            json.dump({"Name": "fake", "Metadata": {},
                       "Endpoints": {"docker": {"Host": eng.docker_host,
                                                "SkipTLSVerify": False}}}, f)
        with open(os.path.join(cfg, "config.json"), "w") as f:
            json.dump({"auths": {}, "currentContext": "fake"}, f)
        n = len(eng.captures)
        r = build(eng, [], ctx, env=clean_env(DOCKER_CONFIG=cfg))
        tap.check("config.json's currentContext names the engine (its meta.json)",
                  r.returncode == 0 and len(eng.captures) == n + 1, err(r))
        r = build(eng, [], ctx, env=clean_env(DOCKER_CONFIG=cfg, DOCKER_HOST="unix:///nonexist"))
        tap.check("DOCKER_HOST wins over currentContext", r.returncode == 1 and
                  "unix:///nonexist (DOCKER_HOST)" in err(r), err(r))
        r = build(eng, ["--context", "fake"], ctx,
                  env=clean_env(DOCKER_CONFIG=cfg, DOCKER_HOST="unix:///nonexist"))
        tap.check("--context wins over DOCKER_HOST", r.returncode == 0, err(r))
        r = build(eng, [], ctx, env=clean_env(DOCKER_CONFIG=cfg, DOCKER_CONTEXT="nope"))
        tap.check("DOCKER_CONTEXT naming no context: exit 1, names it and where it looked",
                  r.returncode == 1 and "'nope'" in err(r) and "DOCKER_CONTEXT" in err(r) and
                  cfg in err(r), err(r))
        r = build(eng, ["--host", eng.docker_host], ctx,
                  env=clean_env(DOCKER_CONFIG=cfg, DOCKER_CONTEXT="nope"))
        tap.check("--host wins over everything", r.returncode == 0, err(r))
    r = build(None, [], ctx, env=clean_env(DOCKER_HOST="npipe:////./pipe/docker_engine"))
    tap.check("npipe://: refused, naming the scheme", r.returncode == 1 and
              "'npipe'" in err(r) and "not supported" in err(r), err(r))
    r = build(None, [], ctx, env=clean_env(DOCKER_HOST="tcp://127.0.0.1:9"))
    tap.check("tcp:// spoken: a closed port is 'connection refused' naming it",
              r.returncode == 1 and "tcp://127.0.0.1:9 (DOCKER_HOST)" in err(r) and
              "refused" in err(r), err(r))
    for opt in ("--secret", "--ssh", "--cache-from", "--cache-to"):
        r = build(None, [opt, "x"], ctx, env=clean_env(DOCKER_HOST="unix:///nonexist"))
        tap.check("%s: refused, exit 2, 'needs a BuildKit session'" % opt,
                  r.returncode == 2 and "needs a BuildKit session" in err(r), err(r))


def test_skip_unchanged():
    ctx = ctx_tree()
    with FakeEngine() as eng:
        env = clean_env(DOCKER_HOST=eng.docker_host, XDG_CACHE_HOME=tap.mkdtemp("ctxpack-xdg-"))
        r = build(eng, ["--skip-unchanged"], ctx, env=env)
        tap.check("--skip-unchanged without -t: usage error (exit 2)", r.returncode == 2, err(r))
        r = build(eng, ["--skip-unchanged", "-t", "x:1", "--label", "mine=1"], ctx, env=env)
        q = urllib.parse.parse_qs(eng.captures[-1].query) if eng.captures else {}
        labels = json.loads(q.get("labels", ["{}"])[0])
        d = subprocess.run([CTXPACK, "digest", ctx], capture_output=True, env=env)
        tap.check("--skip-unchanged, no such image (404): built, labelled with `ctxpack "
                  "digest`'s digest and the build's",
                  r.returncode == 0 and labels.get("ctxpack.context") == d.stdout.decode().strip()
                  and labels.get("ctxpack.build", "").startswith("xxh3-128:") and
                  labels.get("mine") == "1", (labels, d.stdout, err(r)))


def test_sendfile():
    """File bodies go from the file to the socket by sendfile(2): the bytes
    of a 1 MiB file never pass through ctxpack's buffer."""
    if not shutil.which("strace"):
        tap.skip("file bodies sent by sendfile(2)", "strace is not installed")
        return
    ctx = ctx_tree(big=1 << 20)
    trace = os.path.join(tap.mkdtemp("ctxpack-build-strace-"), "trace")
    with FakeEngine() as eng:
        e = clean_env(DOCKER_HOST=eng.docker_host)
        # LeakSanitizer does not work under ptrace: an ASan build's leak
        # check would end the traced run with a fatal error
        e["ASAN_OPTIONS"] = ":".join(x for x in (e.get("ASAN_OPTIONS"), "detect_leaks=0") if x)
        # -ff: one file per thread, so that another thread's exit never
        # splits a call into "<unfinished ...>" and "<... resumed>" lines
        r = subprocess.run(["strace", "-ff", "-e", "trace=sendfile", "-o", trace, CTXPACK,
                            "build", "-q", ctx], env=e, capture_output=True, timeout=60)
        eng.wait_idle()
        calls = []
        tdir = os.path.dirname(trace)
        for name in sorted(os.listdir(tdir)):
            with open(os.path.join(tdir, name)) as f:
                calls += [ln for ln in f if "sendfile(" in ln and "= " in ln]
        moved = sum(int(ln.rsplit("= ", 1)[1].split()[0]) for ln in calls
                    if ln.rsplit("= ", 1)[1].split()[0].isdigit())
        tap.check("the 1 MiB file moved by sendfile(2) into the engine's socket",
                  r.returncode == 0 and moved == 1 << 20, "rc %s, %s" % (r.returncode, calls))
        tap.check("... and the body is still pack's archive byte for byte",
                  eng.captures and eng.captures[-1].body == pack([], ctx),
                  len(eng.captures[-1].body) if eng.captures else None)


def main():
    test_request()
    test_versions()
    test_failures()
    test_sigint()
    test_where()
    test_skip_unchanged()
    test_sendfile()
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

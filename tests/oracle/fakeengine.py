#!/usr/bin/env python3
"""fakeengine.py: a stand-in Docker engine that records build contexts.

It speaks just enough of the Docker Engine API (HTTP/1.1 over a unix socket)
for `DOCKER_BUILDKIT=0 docker build` to run to completion:

  GET|HEAD /_ping, /vX/_ping    "OK" plus the API-Version/OSType headers
  GET /version, /vX/version     ApiVersion 1.47, MinAPIVersion 1.24, Os linux
  GET /info, /vX/info           a minimal info object
  POST /build, /vX/build        reads the whole body (Content-Length or
                                chunked), stores it, answers with a JSON
                                stream ("Successfully built ..." + aux ID)

Anything else gets 404 with a JSON error message.

Over TCP: FakeEngine(tcp=True) listens on 127.0.0.1 (a free port);
FakeEngine(tls=ssl_context) also wraps each connection in TLS (the
handshake in the connection's own thread: a failed one is recorded in
engine.tls_errors, not raised).  engine.docker_host is then
tcp://127.0.0.1:PORT.

For tests of a client's failure paths (tests/cli/test_build.py): set
`engine.api_version` (None: /_ping sends no API-Version header) and
`engine.build_handler`, a function (handler, query) that answers POST
/build itself; handler.read_body_into(list) reads the request body (False
when it broke off) and handler.record(query, body, complete) keeps it as a
capture.

Command line:  fakeengine.py SOCKET OUTDIR
    Serves until interrupted; each build body is saved as OUTDIR/context-N.tar
    and its query string as OUTDIR/context-N.query (N counts from 1).  A body
    that ended early (client went away) is also marked by context-N.incomplete.

Module use (other scripts in tests/oracle import this file):

    with FakeEngine() as eng:                    # temp socket, server thread
        res = eng.docker_build(ctxdir, ["-f", "sub/Dockerfile"])
        res.returncode, res.stderr, res.tar      # tar: bytes or None

Only the Python standard library is used; runs under /usr/bin/python3.
"""

import http.server
import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

API_VERSION = "1.47"
MIN_API_VERSION = "1.24"
IMAGE_ID = "sha256:" + "0" * 64
SHORT_ID = "0123456789ab"


def _strip_version(path):
    """'/v1.47/build' -> '/build'; '/build' -> '/build'."""
    if path.startswith("/v"):
        slash = path.find("/", 1)
        if slash > 0 and all(c.isdigit() or c == "." for c in path[2:slash]):
            return path[slash:]
    return path


class Capture:
    """One POST /build request as the engine received it."""

    def __init__(self, index, query, body, complete, headers):
        self.index = index          # 1-based, in arrival order
        self.query = query          # the raw query string (may be "")
        self.body = body            # bytes received (the tar stream)
        self.complete = complete    # False if the body broke off
        self.headers = headers      # dict of request headers

    def __repr__(self):
        return "Capture(%d, %d bytes%s)" % (
            self.index, len(self.body), "" if self.complete else ", incomplete")


class _BodyError(Exception):
    pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Docker/28.2.2 (linux)"

    def version_string(self):
        return self.server_version

    # BaseHTTPRequestHandler expects an (host, port) address.
    def address_string(self):
        return "unix"

    def log_message(self, fmt, *args):
        if self.server.engine.verbose:
            sys.stderr.write("fakeengine: %s\n" % (fmt % args))

    # -- helpers --------------------------------------------------------

    def _send(self, code, body=b"", ctype="application/json", extra=None,
              head=False):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if self.server.engine.api_version:
            self.send_header("Api-Version", self.server.engine.api_version)
        self.send_header("Docker-Experimental", "false")
        self.send_header("Ostype", "linux")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def _send_json(self, code, obj):
        self._send(code, (json.dumps(obj) + "\n").encode())

    def _read_exact(self, n):
        chunks = []
        while n > 0:
            data = self.rfile.read(min(n, 1 << 20))
            if not data:
                raise _BodyError("connection closed inside the body")
            chunks.append(data)
            n -= len(data)
        return b"".join(chunks)

    def _read_body(self, sink):
        """Append the request body to list `sink`; raise _BodyError if the
        body is cut short.  Handles Content-Length and chunked encoding."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            while True:
                line = self.rfile.readline(1 << 16)
                if not line:
                    raise _BodyError("connection closed in chunk header")
                size_txt = line.split(b";", 1)[0].strip()
                try:
                    size = int(size_txt, 16)
                except ValueError:
                    raise _BodyError("bad chunk size %r" % line)
                if size == 0:
                    # trailers up to the empty line
                    while True:
                        t = self.rfile.readline(1 << 16)
                        if not t:
                            raise _BodyError("connection closed in trailer")
                        if t in (b"\r\n", b"\n"):
                            return
                data = b""
                try:
                    data = self._read_exact(size)
                finally:
                    if data:
                        sink.append(data)
                crlf = self.rfile.readline(1 << 16)
                if crlf not in (b"\r\n", b"\n"):
                    raise _BodyError("missing CRLF after chunk")
        length = self.headers.get("Content-Length")
        if length is None:
            return
        remaining = int(length)
        while remaining > 0:
            data = self.rfile.read(min(remaining, 1 << 20))
            if not data:
                raise _BodyError("connection closed inside the body")
            sink.append(data)
            remaining -= len(data)

    # -- endpoints ------------------------------------------------------

    def _route(self):
        path, _, query = self.path.partition("?")
        return _strip_version(path), query

    def do_HEAD(self):
        path, _ = self._route()
        if path == "/_ping":
            self._send(200, b"OK", "text/plain; charset=utf-8",
                       {"Builder-Version": "1",
                        "Cache-Control": "no-cache, no-store, must-revalidate",
                        "Pragma": "no-cache"}, head=True)
        else:
            self._send(404, b"", head=True)

    def do_GET(self):
        path, _ = self._route()
        if path == "/_ping":
            self._send(200, b"OK", "text/plain; charset=utf-8",
                       {"Builder-Version": "1",
                        "Cache-Control": "no-cache, no-store, must-revalidate",
                        "Pragma": "no-cache"})
        elif path == "/version":
            self._send_json(200, {
                "Platform": {"Name": "fakeengine"},
                "Version": "28.2.2", "ApiVersion": API_VERSION,
                "MinAPIVersion": MIN_API_VERSION, "Os": "linux",
                "Arch": "amd64", "KernelVersion": os.uname().release,
                "GitCommit": "fake", "GoVersion": "go1.24",
                "BuildTime": "2025-01-01T00:00:00.000000000+00:00",
                "Components": []})
        elif path == "/info":
            self._send_json(200, {
                "ID": "fakeengine", "Containers": 0, "Images": 0,
                "Driver": "none", "OSType": "linux", "OperatingSystem":
                "fakeengine", "Architecture": "x86_64", "NCPU": 1,
                "MemTotal": 0, "ServerVersion": "28.2.2", "Name": "fake",
                "Labels": [], "ExperimentalBuild": False,
                "SecurityOptions": [], "Warnings": None})
        else:
            self._send_json(404, {"message": "page not found"})

    def do_POST(self):
        self.server.engine.paths.append(self.path)
        path, query = self._route()
        if path != "/build":
            # Drain a small body so the connection stays usable.
            try:
                self._read_body([])
            except _BodyError:
                self.close_connection = True
                return
            self._send_json(404, {"message": "page not found"})
            return
        engine = self.server.engine
        if engine.build_handler is not None:
            engine.build_handler(self, query)
            return
        sink = []
        complete = True
        try:
            self._read_body(sink)
        except (_BodyError, OSError, ValueError):
            complete = False
        engine._record(query, b"".join(sink), complete, dict(self.headers))
        if not complete:
            self.close_connection = True
            return
        lines = [
            {"stream": "Step 1/1 : FROM scratch\n"},
            {"stream": " ---> \n"},
            {"aux": {"ID": IMAGE_ID}},
            {"stream": "Successfully built %s\n" % SHORT_ID},
        ]
        body = b"".join((json.dumps(x) + "\r\n").encode() for x in lines)
        self._send(200, body)

    def read_body_into(self, sink):
        """The request body appended to sink; False when it broke off."""
        try:
            self._read_body(sink)
            return True
        except (_BodyError, OSError, ValueError):
            return False

    def record(self, query, body, complete):
        self.server.engine._record(query, body, complete, dict(self.headers))

    def handle_one_request(self):
        engine = self.server.engine
        with engine._cv:
            engine._active += 1
        try:
            super().handle_one_request()
        finally:
            with engine._cv:
                engine._active -= 1
                engine._cv.notify_all()


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client gone mid-answer (the failure tests cut connections on
        # purpose) is no error of the stand-in's
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def get_request(self):
        sock, addr = super().get_request()
        ctx = self.engine.tls
        if ctx is not None:
            # the handshake happens on the first read, in the handler's thread
            sock = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        err = sys.exc_info()[1]
        with self.engine._cv:
            self.engine.tls_errors.append(err)
        if self.engine.verbose:
            sys.stderr.write("fakeengine: %r\n" % (err,))


class BuildResult:
    """The outcome of one `docker build` through the engine."""

    def __init__(self, returncode, stdout, stderr, captures, timed_out,
                 seconds):
        self.returncode = returncode    # docker's exit status (None: timeout)
        self.stdout = stdout            # bytes
        self.stderr = stderr            # bytes
        self.captures = captures        # [Capture] for this run (0 or 1)
        self.timed_out = timed_out
        self.seconds = seconds          # wall time of the docker process

    @property
    def capture(self):
        return self.captures[-1] if self.captures else None

    @property
    def tar(self):
        c = self.capture
        return c.body if c else None


# Canned answers to POST /build for FakeEngine.build_handler, as the
# engine's failures look on the wire.
def refuse(code, read):
    """code with the engine's JSON message, the body read first or not, the
    connection closed."""
    def f(h, query):
        if read:
            h.read_body_into([])
        h._send_json(code, {"message": "no such thing as %d" % code})
        h.close_connection = True
    return f


def die_mid_upload(h, query):
    """The engine reads 100 kB of the body and goes away."""
    h.rfile.read(100000)
    h.record(query, b"", False)
    h.close_connection = True
    h.connection.shutdown(socket.SHUT_RDWR)


def cut_answer(h, query):
    """One message, then the connection closed in the middle of the next."""
    h.read_body_into([])
    h.send_response(200)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    msg = b'{"stream":"Step 1/2\\n"}\r\n'
    h.wfile.write(b"%x\r\n%s\r\n" % (len(msg), msg) + b"40\r\n{\"stream\":")
    h.wfile.flush()
    h.close_connection = True


def docker_cli():
    """Path of the docker CLI, or None when it is not installed."""
    return shutil.which("docker")


class FakeEngine:
    """A fake engine serving on a unix socket from a background thread.

    FakeEngine(socket_path=None, outdir=None): with socket_path None a
    socket in a fresh temp directory is used.  With outdir, every build body
    is also written to OUTDIR/context-N.tar (+ .query, + .incomplete).
    docker_build() calls on one engine are serialized; use one engine per
    worker thread to run builds in parallel.
    """

    def __init__(self, socket_path=None, outdir=None, verbose=False, tcp=False, tls=None):
        self.tcp = tcp or tls is not None
        self.tls = tls                   # an ssl.SSLContext (server side), or None
        self.tls_errors = []             # exceptions of connections that failed
        self.port = None
        self._tmpdir = None
        if socket_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="fakeengine.")
            os.chmod(self._tmpdir, 0o755)
            socket_path = os.path.join(self._tmpdir, "docker.sock")
        self.socket_path = os.path.abspath(socket_path)
        self.outdir = outdir
        self.verbose = verbose
        self.captures = []
        self._cv = threading.Condition()
        self._active = 0
        self._server = None
        self._thread = None
        self._build_lock = threading.Lock()
        self._home = None
        self.api_version = API_VERSION   # /_ping's API-Version, None: no header
        self.build_handler = None        # answers POST /build instead, see above
        self.paths = []                  # the path (and query) of every POST

    @property
    def docker_host(self):
        if self.tcp:
            return "tcp://127.0.0.1:%d" % self.port
        return "unix://" + self.socket_path

    # -- lifecycle ------------------------------------------------------

    def start(self):
        if self.tcp:
            self._server = _TCPServer(("127.0.0.1", 0), _Handler)
            self._server.engine = self
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.2},
                                            daemon=True)
            self._thread.start()
            return self
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        self._server = _Server(self.socket_path, _Handler)
        self._server.engine = self
        os.chmod(self.socket_path, 0o777)   # usable by a non-root docker
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        try:
            os.unlink(self.socket_path)
        except OSError:
            pass
        for d in (self._tmpdir, self._home):
            if d:
                shutil.rmtree(d, ignore_errors=True)
        self._tmpdir = self._home = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- captures -------------------------------------------------------

    def _record(self, query, body, complete, headers):
        with self._cv:
            cap = Capture(len(self.captures) + 1, query, body, complete,
                          headers)
            self.captures.append(cap)
            self._cv.notify_all()
        if self.outdir:
            base = os.path.join(self.outdir, "context-%d" % cap.index)
            with open(base + ".tar", "wb") as f:
                f.write(body)
            with open(base + ".query", "w") as f:
                f.write(query + "\n")
            if not complete:
                open(base + ".incomplete", "w").close()
        if self.verbose:
            sys.stderr.write("fakeengine: %r\n" % cap)

    def wait_idle(self, timeout=2.0):
        """Wait until no request is being handled (or timeout)."""
        end = time.monotonic() + timeout
        with self._cv:
            while self._active:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cv.wait(left)
        return True

    # -- running docker -------------------------------------------------

    def docker_env(self, base=None):
        env = dict(os.environ if base is None else base)
        for k in list(env):
            if k.startswith("DOCKER_") or k.startswith("BUILDX_"):
                del env[k]
        if self._home is None:
            self._home = tempfile.mkdtemp(prefix="fakeengine-home.")
            os.chmod(self._home, 0o777)
        env["DOCKER_BUILDKIT"] = "0"
        env["DOCKER_HOST"] = self.docker_host
        env["DOCKER_CONFIG"] = os.path.join(self._home, ".docker")
        env["HOME"] = self._home
        env["DOCKER_CLI_HINTS"] = "false"
        env.setdefault("LC_ALL", "C.UTF-8")
        return env

    def docker_build(self, context_dir, args=(), cwd=None, timeout=60,
                     user=None, docker=None):
        """Run `docker build [args] context_dir` against this engine.

        cwd defaults to context_dir (so a relative -f means the same for
        the context-relative and the cwd-relative reading).  user: a uid to
        run docker as (through setpriv; needs root).  Returns BuildResult.
        """
        docker = docker or docker_cli()
        if docker is None:
            raise FileNotFoundError("docker CLI not installed")
        if isinstance(context_dir, bytes):
            context_dir = os.fsdecode(context_dir)
        argv = [docker, "build"] + [os.fsdecode(a) if isinstance(a, bytes)
                                    else a for a in args] + [context_dir]
        if user is not None:
            argv = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user,
                    "--clear-groups", "--"] + argv
        with self._build_lock:
            first = len(self.captures)
            t0 = time.monotonic()
            timed_out = False
            try:
                p = subprocess.run(argv, cwd=cwd or context_dir,
                                   env=self.docker_env(),
                                   stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=timeout)
                rc, out, err = p.returncode, p.stdout, p.stderr
            except subprocess.TimeoutExpired as e:
                rc, out, err = None, e.stdout or b"", e.stderr or b""
                timed_out = True
            secs = time.monotonic() - t0
            self.wait_idle()
            with self._cv:
                caps = self.captures[first:]
        return BuildResult(rc, out, err, caps, timed_out, secs)


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: fakeengine.py SOCKET OUTDIR\n")
        return 2
    sock, outdir = argv[1], argv[2]
    os.makedirs(outdir, exist_ok=True)
    eng = FakeEngine(socket_path=sock, outdir=outdir, verbose=True)
    eng.start()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    sys.stderr.write("fakeengine: listening on %s, saving to %s\n"
                     % (eng.socket_path, outdir))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        eng.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

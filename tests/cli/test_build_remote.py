#!/usr/bin/env python3
"""`ctxpack build` to a remote engine, against the stand-in engine
(tests/oracle/fakeengine.py): TLS over tcp:// (DOCKER_TLS_VERIFY with
DOCKER_CERT_PATH, a context's TLS material; certificates made here with
openssl(1) by tests/oracle/tlscerts.py), ssh:// through a fake `ssh` first
on PATH that records its argv and bridges its standard input and output to
the stand-in's socket, and the compression a remote engine gets by default.
The request and body over each are the ones sent over a unix socket.

usage: test_build_remote.py PATH_TO_CTXPACK"""
import gzip
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import tap  # noqa: E402
import tlscerts  # noqa: E402
from fakeengine import FakeEngine, cut_answer, die_mid_upload, docker_cli, refuse  # noqa: E402
from test_build import build, clean_env, ctx_tree, err, pack  # noqa: E402

# What the docker CLI (28.x, cli/connhelper) runs for ssh://user@host:2222.
DOCKER_SSH_ARGV = ["-o ConnectTimeout=30", "-T", "-l", "user", "-p", "2222", "--", "host",
                   "docker", "system", "dial-stdio"]

FAKE_SSH = r'''#!%s
"""A stand-in for ssh: records its argv (one JSON line in $FAKE_SSH_LOG);
with $FAKE_SSH_FAIL prints it on stderr and exits 255, as ssh does when it
cannot log in; else bridges stdin/stdout to the unix socket $FAKE_SSH_SOCKET
(what `docker system dial-stdio` does on the remote host).  The connection
lost: on its $FAKE_SSH_CUT_CALL-th run (counted in the log) it stops after
$FAKE_SSH_CUT_UP bytes up or $FAKE_SSH_CUT_DOWN bytes down, prints
$FAKE_SSH_CUT_MSG and exits 255."""
import json, os, socket, sys, threading
log = os.environ["FAKE_SSH_LOG"]
with open(log, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\n")
if os.environ.get("FAKE_SSH_FAIL"):
    sys.stderr.write(os.environ["FAKE_SSH_FAIL"] + "\n")
    sys.exit(255)
call = len(open(log).read().splitlines())
cut = call == int(os.environ.get("FAKE_SSH_CUT_CALL", "0"))
limits = {"up": int(os.environ.get("FAKE_SSH_CUT_UP", "0")) if cut else 0,
          "down": int(os.environ.get("FAKE_SSH_CUT_DOWN", "0")) if cut else 0}
def die():
    sys.stderr.write(os.environ.get("FAKE_SSH_CUT_MSG", "") + "\n")
    sys.stderr.flush()
    os._exit(255)
def forward(way, n, d, put):
    lim = limits[way]
    if lim and n + len(d) >= lim:
        put(d[:lim - n])
        die()
    put(d)
    return n + len(d)
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ["FAKE_SSH_SOCKET"])
def up():
    n = 0
    while True:
        d = os.read(0, 65536)
        if not d:
            s.shutdown(socket.SHUT_WR)
            return
        n = forward("up", n, d, s.sendall)
threading.Thread(target=up, daemon=True).start()
n = 0
while True:
    d = s.recv(65536)
    if not d:
        break
    n = forward("down", n, d, lambda b: os.write(1, b))
'''


def headers(cap):
    return {k.lower(): v for k, v in cap.headers.items()}


def unix_reference(ctx, args):
    """The capture of the same build over a unix socket."""
    with FakeEngine() as eng:
        r = build(eng, args, ctx)
        assert r.returncode == 0, err(r)
        return eng.captures[-1]


def same_request(cap, ref):
    """The query, the headers but Host, and the body equal the unix socket's."""
    def hd(c):
        return {k: v for k, v in headers(c).items() if k != "host"}
    return (cap is not None and cap.complete and cap.query == ref.query and
            hd(cap) == hd(ref) and cap.body == ref.body)


def tls_env(eng, certpath, **kw):
    return clean_env(DOCKER_HOST=eng.docker_host, DOCKER_TLS_VERIFY="1",
                     DOCKER_CERT_PATH=certpath, **kw)


def test_tls(certs):
    ctx = ctx_tree()
    good = tlscerts.cert_dir(certs, tap.mkdtemp("ctxpack-remote-cp-"))
    wrong = tlscerts.cert_dir(certs, tap.mkdtemp("ctxpack-remote-wrong-"), ca=certs.other_ca)
    nocert = tlscerts.cert_dir(certs, tap.mkdtemp("ctxpack-remote-nocert-"), client=False)
    args = ["-t", "x:1", "--build-arg", "A=1", "--compress=none"]
    ref = unix_reference(ctx, args)
    with FakeEngine(tls=tlscerts.server_context(certs, client_cert=True)) as eng:
        r = build(eng, args, ctx, env=tls_env(eng, good))
        cap = eng.captures[-1] if eng.captures else None
        tap.check("TLS (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH, client certificate asked "
                  "for): exit 0", r.returncode == 0, err(r))
        tap.check("TLS: the same query, headers but Host, and body byte for byte as over a "
                  "unix socket",
                  same_request(cap, ref),
                  cap and (cap.query, ref.query, len(cap.body), len(ref.body)))
        hd = headers(cap) if cap else {}
        tap.check("TLS, --compress=none: Content-Length, Host the address",
                  hd.get("content-length") == str(len(ref.body)) and
                  hd.get("host") == eng.docker_host[len("tcp://"):], hd)

        # the default over TLS: gzip, chunked
        r = build(eng, [], ctx, env=tls_env(eng, good))
        cap = eng.captures[-1]
        hd = headers(cap)
        tap.check("remote engine, no --compress: gzip, chunked, the body `ctxpack pack "
                  "--compress=gzip`'s archive", r.returncode == 0 and
                  hd.get("transfer-encoding") == "chunked" and cap.body[:2] == b"\x1f\x8b" and
                  gzip.decompress(cap.body) == pack([], ctx), (hd, err(r)))

        # localhost: the name checked against the certificate's DNS name
        port = eng.port
        r = build(eng, [], ctx, env=clean_env(DOCKER_HOST="tcp://localhost:%d" % port,
                                              DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=good))
        tap.check("TLS to tcp://localhost:PORT: verified against the DNS name", r.returncode == 0,
                  err(r))

        # (this engine sends its CA with its certificate: OpenSSL builds
        # the chain from the CA it checks clients with)
        n = len(eng.captures)
        r = build(eng, [], ctx, env=tls_env(eng, wrong))
        tap.check("a CA that did not sign the engine's chain: exit 1, one line naming "
                  "the engine and the verification failure, nothing sent",
                  r.returncode == 1 and eng.docker_host + " (DOCKER_HOST)" in err(r) and
                  "certificate verify failed: self-signed certificate in certificate chain"
                  in err(r) and err(r).count("\n") == 1 and len(eng.captures) == n, err(r))

        r = build(eng, [], ctx, env=tls_env(eng, nocert))
        tap.check("the engine asks for a client certificate, none in DOCKER_CERT_PATH: exit 1 "
                  "naming the engine, the alert and the missing cert.pem",
                  r.returncode == 1 and eng.docker_host in err(r) and
                  "certificate required" in err(r) and "cert.pem" in err(r) and
                  len(eng.captures) == n, err(r))

        r = build(eng, [], ctx, env=clean_env(DOCKER_HOST=eng.docker_host))
        tap.check("TLS engine without DOCKER_TLS_VERIFY: exit 1 naming the engine",
                  r.returncode == 1 and eng.docker_host in err(r), err(r))

        missing = os.path.join(tap.mkdtemp("ctxpack-remote-empty-"), "none")
        r = build(eng, [], ctx, env=tls_env(eng, missing))
        tap.check("DOCKER_CERT_PATH without ca.pem: exit 1 naming the file and the cause",
                  r.returncode == 1 and os.path.join(missing, "ca.pem") in err(r) and
                  "No such file or directory" in err(r), err(r))

        half = tlscerts.cert_dir(certs, tap.mkdtemp("ctxpack-remote-half-"))
        os.unlink(os.path.join(half, "key.pem"))
        r = build(eng, [], ctx, env=tls_env(eng, half))
        tap.check("cert.pem without key.pem: no client certificate offered (as the docker "
                  "CLI), the engine's demand for one named", r.returncode == 1 and
                  "certificate required" in err(r), err(r))

        bad = tlscerts.cert_dir(certs, tap.mkdtemp("ctxpack-remote-badkey-"))
        shutil.copy(certs.server_key, os.path.join(bad, "key.pem"))
        r = build(eng, [], ctx, env=tls_env(eng, bad))
        tap.check("key.pem that is not cert.pem's key: exit 1 naming both",
                  r.returncode == 1 and "does not match" in err(r) and
                  os.path.join(bad, "key.pem") in err(r) and
                  os.path.join(bad, "cert.pem") in err(r), err(r))

        enc = tlscerts.cert_dir(certs, tap.mkdtemp("ctxpack-remote-enc-"))
        subprocess.run(["openssl", "pkey", "-in", certs.client_key, "-aes256", "-passout",
                        "pass:secret", "-out", os.path.join(enc, "key.pem")], check=True,
                       capture_output=True)
        r = build(eng, [], ctx, env=tls_env(eng, enc), stdin=subprocess.DEVNULL)
        tap.check("an encrypted key.pem: exit 1 naming it (refused, as the docker CLI refuses it)",
                  r.returncode == 1 and os.path.join(enc, "key.pem") in err(r) and
                  "unencrypted" in err(r), err(r))

        junk = tlscerts.cert_dir(certs, tap.mkdtemp("ctxpack-remote-junk-"))
        with open(os.path.join(junk, "ca.pem"), "w") as f:
            f.write("not a certificate\n")
        r = build(eng, [], ctx, env=tls_env(eng, junk))
        tap.check("ca.pem that holds no certificate: exit 1 naming it",
                  r.returncode == 1 and os.path.join(junk, "ca.pem") in err(r), err(r))

        # the cert path defaults to the config directory
        cfg = tlscerts.cert_dir(certs, tap.mkdtemp("ctxpack-remote-cfg-"))
        r = build(eng, [], ctx, env=clean_env(DOCKER_HOST=eng.docker_host, DOCKER_TLS_VERIFY="1",
                                              DOCKER_CONFIG=cfg))
        tap.check("no DOCKER_CERT_PATH: ca.pem, cert.pem, key.pem from DOCKER_CONFIG",
                  r.returncode == 0, err(r))

    with FakeEngine(tls=tlscerts.server_context(certs)) as eng:
        r = build(eng, [], ctx, env=tls_env(eng, wrong))
        tap.check("a CA that did not sign the engine's certificate: exit 1, one line naming "
                  "the engine and 'certificate verify failed: unable to get local issuer "
                  "certificate'", r.returncode == 1 and
                  eng.docker_host + " (DOCKER_HOST)" in err(r) and
                  "certificate verify failed: unable to get local issuer certificate" in err(r)
                  and err(r).count("\n") == 1 and not eng.captures, err(r))
        r = build(eng, [], ctx, env=tls_env(eng, nocert))
        tap.check("an engine that asks for no client certificate: none needed, exit 0",
                  r.returncode == 0, err(r))
        r = build(eng, [], ctx, env=clean_env(DOCKER_HOST=eng.docker_host, DOCKER_TLS="1",
                                              DOCKER_CERT_PATH=wrong))
        tap.check("DOCKER_TLS=1 (TLS, nothing verified, as the docker CLI): the unrelated "
                  "CA is not checked, exit 0", r.returncode == 0, err(r))
        empty = tap.mkdtemp("ctxpack-remote-noca-")
        r = build(eng, [], ctx, env=clean_env(DOCKER_HOST=eng.docker_host, DOCKER_TLS="1",
                                              DOCKER_CERT_PATH=empty))
        tap.check("DOCKER_TLS=1 still reads ca.pem, as the docker CLI: missing, exit 1 naming it",
                  r.returncode == 1 and os.path.join(empty, "ca.pem") in err(r), err(r))

    with FakeEngine(tls=tlscerts.server_context(certs, other_name=True)) as eng:
        r = build(eng, [], ctx, env=tls_env(eng, good))
        tap.check("a certificate for another name (other.invalid) at 127.0.0.1: exit 1, "
                  "'certificate verify failed: IP address mismatch'", r.returncode == 1 and
                  eng.docker_host in err(r) and
                  "certificate verify failed: IP address mismatch" in err(r) and
                  not eng.captures, err(r))
        r = build(eng, [], ctx, env=clean_env(DOCKER_HOST="tcp://localhost:%d" % eng.port,
                                              DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=good))
        tap.check("the same at localhost: 'hostname mismatch'", r.returncode == 1 and
                  "certificate verify failed: hostname mismatch" in err(r), err(r))

    # plain tcp: gzip by default too; --compress=none overrides
    with FakeEngine(tcp=True) as eng:
        r = build(eng, [], ctx)
        cap = eng.captures[-1]
        tap.check("plain tcp://, no --compress: gzip", r.returncode == 0 and
                  cap.body[:2] == b"\x1f\x8b" and gzip.decompress(cap.body) == pack([], ctx),
                  err(r))
        r = build(eng, ["--compress=none"], ctx)
        cap = eng.captures[-1]
        tap.check("plain tcp://, --compress=none: the uncompressed archive, Content-Length",
                  r.returncode == 0 and cap.body == pack([], ctx) and
                  "content-length" in headers(cap), err(r))
    with FakeEngine() as eng:
        r = build(eng, [], ctx)
        cap = eng.captures[-1]
        tap.check("unix://, no --compress: uncompressed, as before", r.returncode == 0 and
                  cap.body == pack([], ctx), err(r))


def closing_server(handshake_bytes):
    """A TCP listener that reads handshake_bytes bytes (or none) of each
    connection and closes it: an engine gone mid-handshake."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)

    def run():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            if handshake_bytes:
                c.recv(handshake_bytes)
            c.close()
    threading.Thread(target=run, daemon=True).start()
    return ls


def test_tls_cut(certs):
    ctx = ctx_tree()
    good = tlscerts.cert_dir(certs, tap.mkdtemp("ctxpack-remote-cp-"))
    ls = closing_server(100)
    host = "tcp://127.0.0.1:%d" % ls.getsockname()[1]
    r = build(None, [], ctx, env=clean_env(DOCKER_HOST=host, DOCKER_TLS_VERIFY="1",
                                           DOCKER_CERT_PATH=good), timeout=60)
    ls.close()
    tap.check("an engine that closes mid-handshake: exit 1 naming it and the handshake",
              r.returncode == 1 and host in err(r) and "handshake" in err(r), err(r))


def sha(name):
    return hashlib.sha256(name.encode()).hexdigest()


def make_context(cfg, name, host, skip=False, tls=None):
    meta = os.path.join(cfg, "contexts", "meta", sha(name))
    os.makedirs(meta, exist_ok=True)
    with open(os.path.join(meta, "meta.json"), "w") as f:
        json.dump({"Name": name, "Metadata": {},
                   "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip}}}, f)
    if tls:
        tls(os.path.join(cfg, "contexts", "tls", sha(name), "docker"))


def test_context(certs):
    ctx = ctx_tree()
    with FakeEngine(tls=tlscerts.server_context(certs, client_cert=True)) as eng:
        cfg = tap.mkdtemp("ctxpack-remote-ctx-")
        make_context(cfg, "remote", eng.docker_host,
                     tls=lambda d: tlscerts.cert_dir(certs, d))
        make_context(cfg, "wrongca", eng.docker_host,
                     tls=lambda d: tlscerts.cert_dir(certs, d, ca=certs.other_ca))
        make_context(cfg, "skip", eng.docker_host, skip=True,
                     tls=lambda d: tlscerts.cert_dir(certs, d, ca=certs.other_ca))
        with open(os.path.join(cfg, "config.json"), "w") as f:
            json.dump({"currentContext": "remote"}, f)
        n = len(eng.captures)
        r = build(eng, ["--compress=none"], ctx, env=clean_env(DOCKER_CONFIG=cfg))
        tap.check("currentContext with TLS material (contexts/tls/<sha256>/docker): exit 0, "
                  "the body sent", r.returncode == 0 and len(eng.captures) == n + 1 and
                  eng.captures[-1].body == pack([], ctx), err(r))
        r = build(eng, ["--context", "wrongca"], ctx, env=clean_env(DOCKER_CONFIG=cfg))
        tap.check("a context whose ca.pem did not sign the engine: exit 1, the context named, "
                  "certificate verify failed", r.returncode == 1 and "'wrongca'" in err(r) and
                  "certificate verify failed" in err(r), err(r))
        r = build(eng, ["--context", "skip"], ctx, env=clean_env(DOCKER_CONFIG=cfg))
        tap.check("SkipTLSVerify: the same wrong CA is not checked, exit 0", r.returncode == 0,
                  err(r))


def fake_ssh_dir():
    d = tap.mkdtemp("ctxpack-remote-bin-")
    path = os.path.join(d, "ssh")
    with open(path, "w") as f:
        f.write(FAKE_SSH % sys.executable)
    os.chmod(path, 0o755)
    return d


def ssh_env(bindir, log, sock, host, **kw):
    return clean_env(DOCKER_HOST=host, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
                     FAKE_SSH_LOG=log, FAKE_SSH_SOCKET=sock, **kw)


def argvs(log):
    if not os.path.exists(log):
        return []
    with open(log) as f:
        return [json.loads(x) for x in f if x.strip()]


def test_ssh():
    ctx = ctx_tree()
    bindir = fake_ssh_dir()
    tmp = tap.mkdtemp("ctxpack-remote-ssh-")
    args = ["-t", "x:1", "--compress=none"]
    ref = unix_reference(ctx, args)
    with FakeEngine() as eng:
        log = os.path.join(tmp, "argv1")
        env = ssh_env(bindir, log, eng.socket_path, "ssh://user@host:2222")
        r = build(eng, args, ctx, env=env)
        cap = eng.captures[-1] if eng.captures else None
        tap.check("ssh://user@host:2222: exit 0", r.returncode == 0, err(r))
        tap.check("ssh://: the same query, headers and body byte for byte as over a unix "
                  "socket (Host: docker.example.com, the docker CLI's)",
                  same_request(cap, ref) and headers(cap).get("host") == "docker.example.com",
                  cap and (cap.query, ref.query, cap.headers, ref.headers))
        got = argvs(log)
        tap.check("ssh's argv is the docker CLI's, for the ping and the build",
                  len(got) >= 2 and all(a == DOCKER_SSH_ARGV for a in got), got)
        for url in ("ssh://user@host:2222", "ssh://h/run/other.sock"):
            name = "the live docker CLI runs ssh with the argv ctxpack runs (%s)" % url
            if not docker_cli():
                tap.skip(name, "docker not installed")
                continue
            dlog = os.path.join(tmp, "argv-docker-" + sha(url)[:8])
            clog = os.path.join(tmp, "argv-ctxpack-" + sha(url)[:8])
            denv = ssh_env(bindir, dlog, eng.socket_path, url,
                           DOCKER_CONFIG=tap.mkdtemp("ctxpack-remote-dcfg-"))
            d = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                               env=denv, capture_output=True, timeout=60)
            r = build(eng, ["--compress=none"], ctx,
                      env=ssh_env(bindir, clog, eng.socket_path, url))
            dgot, cgot = argvs(dlog), argvs(clog)
            tap.check(name, r.returncode == 0 and dgot and cgot and
                      all(a == dgot[0] for a in dgot + cgot), (dgot, cgot, d.stderr, err(r)))

        r = build(eng, [], ctx, env=env)
        cap = eng.captures[-1]
        tap.check("ssh://, no --compress: gzip", r.returncode == 0 and
                  cap.body[:2] == b"\x1f\x8b" and gzip.decompress(cap.body) == pack([], ctx),
                  err(r))

        log2 = os.path.join(tmp, "argv2")
        r = build(eng, ["--compress=none"], ctx,
                  env=ssh_env(bindir, log2, eng.socket_path, "ssh://h/run/other.sock"))
        got = argvs(log2)
        tap.check("ssh://HOST/SOCKET: the remote docker is given --host unix://SOCKET, as "
                  "docker 28 does", r.returncode == 0 and got and
                  got[0] == ["-o ConnectTimeout=30", "-T", "--", "h", "docker", "--host",
                             "unix:///run/other.sock", "system", "dial-stdio"], (got, err(r)))

        n = len(eng.captures)
        log3 = os.path.join(tmp, "argv3")
        r = build(eng, [], ctx, env=ssh_env(bindir, log3, eng.socket_path, "ssh://user@host:2222",
                                            FAKE_SSH_FAIL="user@host: Permission denied "
                                            "(publickey)."))
        tap.check("ssh failing to log in: exit 1, the engine and ssh's message in ctxpack's",
                  r.returncode == 1 and "ssh://user@host:2222" in err(r) and
                  "Permission denied (publickey)" in err(r) and "255" in err(r) and
                  len(eng.captures) == n, err(r))

        # the connection lost mid-answer and mid-upload (the build's is
        # ssh's second run: the first is /_ping's)
        msg = "Connection to host closed by remote host."
        for i, (what, extra, cut) in enumerate((("mid-answer", [], {"FAKE_SSH_CUT_DOWN": "40"}),
                                 ("mid-upload (uncompressed)", ["--compress=none"],
                                  {"FAKE_SSH_CUT_UP": "200000"}),
                                 ("mid-upload (gzip)", ["--level=1"],
                                  {"FAKE_SSH_CUT_UP": "200000"}))):
            logc = os.path.join(tmp, "argv-cut-%d" % i)
            big = ctx_tree(big=3 << 20)
            r = build(eng, extra, big, env=ssh_env(
                bindir, logc, eng.socket_path, "ssh://host", FAKE_SSH_CUT_CALL="2",
                FAKE_SSH_CUT_MSG=msg, **cut))
            tap.check("ssh's connection lost %s: exit 1, the engine and ssh's last words in the "
                      "message" % what, r.returncode == 1 and "ssh://host" in err(r) and
                      msg in err(r) and "exited with status 255" in err(r), err(r))

    for host, what in (("ssh://u:pw@h", "password"), ("ssh://h?x=1", "query"),
                       ("ssh://h#f", "fragment")):
        r = build(None, [], ctx, env=clean_env(DOCKER_HOST=host))
        tap.check("%s: refused as the docker CLI refuses it (%s)" % (host, what),
                  r.returncode == 1 and what in err(r) and host in err(r), err(r))
    r = build(None, [], ctx, env=clean_env(DOCKER_HOST="ssh://h", PATH=tap.mkdtemp("empty-")))
    tap.check("no ssh in PATH: exit 1 saying so", r.returncode == 1 and
              "no ssh program in PATH" in err(r), err(r))


def test_failures(certs):
    """The engine's failures of test_build.py, met over TLS and ssh://."""
    # larger than what loopback TCP buffers (tcp_wmem's 4 MiB and the
    # engine's receive buffer): a body that fits is all sent before the
    # engine's close, and the close then meets the answer, not the upload
    big = ctx_tree(big=16 << 20)
    bindir = fake_ssh_dir()
    tmp = tap.mkdtemp("ctxpack-remote-fail-")
    cp = tlscerts.cert_dir(certs, tap.mkdtemp("ctxpack-remote-cp-")) if certs else None
    cases = [("400 before reading the body", refuse(400, False), ["refused the build (400 Bad "
                                                             "Request): no such thing as 400"]),
             ("the engine dies mid-upload", die_mid_upload,
              ["closed the connection while the context was sent"]),
             ("an answer cut mid-stream", cut_answer,
              ["closed the connection in the middle of its answer"])]
    for way in ("TLS", "ssh"):
        if way == "TLS" and not certs:
            tap.skip("TLS failures", "openssl(1) not installed")
            continue
        for name, handler, words in cases:
            for extra in (["--compress=none"], ["--level=1"]):
                tls = tlscerts.server_context(certs) if way == "TLS" else None
                with FakeEngine(tls=tls) as eng:
                    eng.build_handler = handler
                    env = (tls_env(eng, cp) if way == "TLS" else
                           ssh_env(bindir, os.path.join(tmp, "log"), eng.socket_path,
                                   "ssh://host"))
                    try:
                        r = build(eng, ["--builder=classic"] + extra, big, env=env,
                                  timeout=60)
                    except subprocess.TimeoutExpired:
                        tap.check("%s %s %s: no hang" % (way, name, extra[0]), False,
                                  "timed out")
                        continue
                    e = err(r)
                    tap.check("%s, %s, %s: exit 1, '%s'" % (way, name, extra[0], words[0]),
                              r.returncode == 1 and all(w in e for w in words) and
                              e.startswith("ctxpack: ") and e.count("\n") == 1, e)


def main():
    certs = None
    if not shutil.which("openssl"):
        tap.skip("TLS cases", "openssl(1) not installed (scripts/install-deps.sh)")
    else:
        certs = tlscerts.make(tap.mkdtemp("ctxpack-remote-certs-"))
        test_tls(certs)
        test_tls_cut(certs)
        test_context(certs)
    test_ssh()
    test_failures(certs)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

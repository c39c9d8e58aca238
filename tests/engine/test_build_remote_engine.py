#!/usr/bin/env python3
"""`ctxpack build` to the real engine (scripts/engine.sh) reached as a remote
one, against `docker build DIR` through the same way in, on BuildKit and on
the classic builder (DOCKER_BUILDKIT=0 for the docker CLI):
- TLS: a TLS-terminating proxy on 127.0.0.1 (certificates made with
  openssl(1) by tests/oracle/tlscerts.py, a client certificate required)
  forwards each connection to the engine's unix socket; both clients get
  DOCKER_HOST=tcp://127.0.0.1:PORT, DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH;
- ssh://: a fake `ssh` first on PATH runs `docker system dial-stdio`
  against the engine's socket, as the remote host would.
The images' files under ctx/ (docker save, layers applied) agree member by
member.  Without CTXPACK_ENGINE_HOST every check is skipped visibly.

usage: test_build_remote_engine.py PATH_TO_CTXPACK"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
sys.path.insert(0, HERE)
import tap  # noqa: E402
import test_engine_builds as teb  # noqa: E402
import tlscerts  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
HOST = teb.HOST
TAG = "ctxpack-remote-test-%d" % os.getpid()
tags = []

DOCKERFILE = b"""FROM scratch AS base
ARG A=default
COPY a.txt /ctx/a.txt
COPY sub/ /ctx/sub/
FROM base
COPY . /ctx/all/
"""


def tree():
    t = tap.tree({"Dockerfile": DOCKERFILE, "a.txt": b"a\n", "sub/b.txt": b"b" * 70000,
                  "sub/x/c.txt": b"c\n", "skip.log": b"log\n"}, b"*.log\n",
                 prefix="ctxpack-remote-engine-")
    os.chmod(os.path.join(t, "sub/x/c.txt"), 0o751)
    os.symlink("a.txt", os.path.join(t, "link"))
    teb.whole_seconds(t)
    return t


class TLSProxy:
    """TLS on 127.0.0.1:port, each connection's bytes to and from the
    engine's unix socket (hijacked connections included: BuildKit's
    session)."""

    def __init__(self, ctx, sock_path):
        self.ctx = ctx
        self.sock_path = sock_path
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, raw):
        try:
            c = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        self.connections += 1
        u = socket.socket(socket.AF_UNIX)
        try:
            u.connect(self.sock_path)
        except OSError:
            c.close()
            return
        done = threading.Event()

        def pump(src, dst):
            try:
                while True:
                    d = src.recv(65536)
                    if not d:
                        break
                    dst.sendall(d)
            except OSError:
                pass
            done.set()

        threading.Thread(target=pump, args=(c, u), daemon=True).start()
        threading.Thread(target=pump, args=(u, c), daemon=True).start()
        done.wait()
        for s in (u, c):
            try:
                s.close()
            except OSError:
                pass

    def close(self):
        self.ls.close()


FAKE_SSH = """#!/bin/sh
# a remote host's sshd: the command run is docker system dial-stdio there
printf '%s\\n' "$*" >> "$FAKE_SSH_LOG"
DOCKER_HOST="$FAKE_SSH_DOCKER_HOST" exec docker system dial-stdio
"""


def both(kind, classic, env, ctx, name):
    """docker build DIR and ctxpack build with env; compare the images."""
    ta, tb = ("%s-%s-%s-%s" % (TAG, name.lower(), kind.lower(), s) for s in ("docker",
                                                                                "ctxpack"))
    args = ["--build-arg", "A=x"]
    denv = dict(env, DOCKER_BUILDKIT="0" if classic else "1")
    if "FAKE_SSH_LOG" in env:
        denv["FAKE_SSH_LOG"] = env["FAKE_SSH_LOG"] + ".docker"
    r = subprocess.run(["docker", "build", "-q", "-t", ta] + args + [ctx], env=denv,
                       capture_output=True, timeout=300)
    if r.returncode:
        tap.check("%s %s: docker build DIR" % (name, kind), False, r.stderr[-1500:])
        return
    tags.append(ta)
    r2 = subprocess.run([CTXPACK, "build", "-q", "--builder=" + ("classic" if classic else
                                                                 "buildkit"), "-t", tb] + args
                        + [ctx], env=env, capture_output=True, timeout=300)
    if r2.returncode:
        tap.check("%s %s: ctxpack build" % (name, kind), False, r2.stderr[-1500:])
        return
    tags.append(tb)
    ma, mb = teb.built(teb.image_members(ta)), teb.built(teb.image_members(tb))
    tap.check("%s %s: ctxpack build (gzip, the remote default) builds what docker build DIR "
              "builds the same way in (%d members under ctx/)" % (name, kind, len(ma)),
              ma and ma == mb, teb.diff(ma, mb))
    tc = tb + "-none"
    r3 = subprocess.run([CTXPACK, "build", "-q", "--compress=none", "--builder=" +
                         ("classic" if classic else "buildkit"), "-t", tc] + args + [ctx],
                        env=env, capture_output=True, timeout=300)
    if r3.returncode:
        tap.check("%s %s: ctxpack build --compress=none" % (name, kind), False, r3.stderr[-1500:])
        return
    tags.append(tc)
    mc = teb.built(teb.image_members(tc))
    tap.check("%s %s: ctxpack build --compress=none (the tar written into the connection) "
              "builds the same" % (name, kind), ma == mc, teb.diff(ma, mc))


def base_env():
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("DOCKER_") and not k.startswith("BUILDX_")}
    e["BUILDX_NO_DEFAULT_ATTESTATIONS"] = "1"
    if teb.CONFIG:
        e["DOCKER_CONFIG"] = teb.CONFIG
    return e


def main():
    names = ["%s %s" % (w, k) for w in ("TLS", "ssh") for k in ("classic", "BuildKit")]
    why = None
    if not HOST:
        why = "no engine (CTXPACK_ENGINE_HOST unset)"
    elif not HOST.startswith("unix://"):
        why = "the engine is not on a unix socket (%s)" % HOST
    elif not shutil.which("docker"):
        why = "the docker CLI is not installed"
    elif not shutil.which("openssl"):
        why = "openssl(1) is not installed"
    if why:
        for n in names:
            tap.skip(n, why)
        return tap.finish()
    sock = HOST[len("unix://"):]
    ctx = tree()
    certs = tlscerts.make(tap.mkdtemp("ctxpack-remote-engine-certs-"))
    certpath = tlscerts.cert_dir(certs, tap.mkdtemp("ctxpack-remote-engine-cp-"))
    proxy = TLSProxy(tlscerts.server_context(certs, client_cert=True), sock)
    bindir = tap.mkdtemp("ctxpack-remote-engine-bin-")
    with open(os.path.join(bindir, "ssh"), "w") as f:
        f.write(FAKE_SSH)
    os.chmod(os.path.join(bindir, "ssh"), 0o755)
    log = os.path.join(tap.mkdtemp("ctxpack-remote-engine-log-"), "argv")
    try:
        tls_env = dict(base_env(), DOCKER_HOST="tcp://127.0.0.1:%d" % proxy.port,
                       DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=certpath)
        for classic in (True, False):
            both("classic" if classic else "BuildKit", classic, tls_env, ctx, "TLS")
        tap.check("TLS: the builds went through the proxy", proxy.connections >= 6,
                  proxy.connections)
        ssh_env = dict(base_env(), DOCKER_HOST="ssh://me@remote:2222",
                       PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
                       FAKE_SSH_LOG=log, FAKE_SSH_DOCKER_HOST=HOST)
        for classic in (True, False):
            both("classic" if classic else "BuildKit", classic, ssh_env, ctx, "ssh")
        mine = open(log).read().splitlines() if os.path.exists(log) else []
        theirs = (open(log + ".docker").read().splitlines()
                  if os.path.exists(log + ".docker") else [])
        # the docker CLI's own requests; buildx (BuildKit's builds) has a
        # connection helper of its own that leaves -T out
        want = "-o ConnectTimeout=30 -T -l me -p 2222 -- remote docker system dial-stdio"
        tap.check("ssh: ctxpack ran ssh with the docker CLI's arguments (%d runs)" % len(mine),
                  mine and all(ln == want for ln in mine) and want in theirs,
                  (mine[:3], theirs[:6]))
    finally:
        proxy.close()
        if tags:
            teb.run(["docker", "rmi", "-f"] + tags, classic=True, timeout=120)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

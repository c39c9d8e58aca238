#!/usr/bin/env python3
"""`ctxpack build` and the build args the docker CLI adds from the proxies
of its config.json ($DOCKER_CONFIG/config.json): the entry named by the
engine's host as the docker CLI writes it (its DaemonHost: the unix://
socket, tcp://HOST:PORT, a context's host as written,
http://docker.example.com for ssh://), else "default";
HTTP_PROXY and http_proxy (and HTTPS_, NO_, FTP_, ALL_) for each value; a
--build-arg naming the key wins, a bare one stays null.

Against the stand-in engine (tests/oracle/fakeengine.py), which records
the request: the query's buildargs checked exactly, and equal (as JSON) to
what the real docker CLI (DOCKER_BUILDKIT=0 docker build, skipped visibly
without it) sends with the same config.json and options.  Also: no
config.json, an empty one, proxies docker cannot decode (an error naming
the file, nothing sent), --skip-unchanged's build digest.

usage: test_build_proxy.py PATH_TO_CTXPACK"""
import hashlib
import json
import os
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import tap  # noqa: E402
from fakeengine import FakeEngine, docker_cli  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
DOCKER = docker_cli()
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "FTP_PROXY", "ALL_PROXY")

ALL_FIVE = {"httpProxy": "http://user:pw@proxy.example:3128",
            "httpsProxy": "https://proxy.example:3129",
            "noProxy": "localhost,127.0.0.1,.internal",
            "ftpProxy": "ftp://ftp-proxy.example:21",
            "allProxy": "socks5://s p \"q\" \u00fc:1080"}


def env_for(eng, cfg, host=True):
    """The environment both run in: no DOCKER_* or proxy variable of the
    caller's, DOCKER_CONFIG=cfg, DOCKER_HOST the engine (host=True)."""
    env = eng.docker_env()
    for k in PROXY_VARS:
        env.pop(k, None)
        env.pop(k.lower(), None)
    env["DOCKER_CONFIG"] = cfg
    if not host:
        env.pop("DOCKER_HOST", None)
    elif host is not True:
        env["DOCKER_HOST"] = host
    return env


def config(obj):
    cfg = tap.mkdtemp("ctxpack-proxy-cfg-")
    if obj is not None:
        with open(os.path.join(cfg, "config.json"), "w") as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return cfg


def sent(eng, cmd, args, ctx, env):
    """Runs cmd build ARGS CTX; (returncode, stderr, the buildargs query
    parameter parsed (None: not sent), how many requests reached /build)."""
    n = len(eng.captures)
    r = subprocess.run(cmd + args + [ctx], env=env, capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    eng.wait_idle()
    caps = eng.captures[n:]
    ba = None
    if caps:
        q = urllib.parse.parse_qs(caps[-1].query, keep_blank_values=True)
        if "buildargs" in q:
            ba = json.loads(q["buildargs"][0])
    return r.returncode, r.stderr.decode(errors="replace"), ba, len(caps)


def both(name, eng, ctx, env, args, want):
    """ctxpack's buildargs equal want; docker's equal ctxpack's."""
    rc, err, got, n = sent(eng, [CTXPACK, "build", "--builder=classic"], args, ctx, env)
    tap.check("%s: ctxpack sends buildargs exactly" % name, rc == 0 and n == 1 and got == want,
              "rc %s, %s\ngot  %r\nwant %r" % (rc, err, got, want))
    if DOCKER is None:
        tap.skip("%s: the docker CLI sends the same" % name, "docker CLI not installed")
        return
    drc, derr, dgot, dn = sent(eng, [DOCKER, "build"], args, ctx, env)
    tap.check("%s: the docker CLI sends the same" % name,
              drc == 0 and dn == 1 and dgot == got,
              "docker rc %s, %s\ndocker  %r\nctxpack %r" % (drc, derr[-500:], dgot, got))


def expand(pc):
    """What ParseProxyConfig adds for a ProxyConfig pc (no build args)."""
    out = {}
    for field, var in zip(("httpProxy", "httpsProxy", "noProxy", "ftpProxy", "allProxy"),
                          PROXY_VARS):
        if pc.get(field):
            out[var] = out[var.lower()] = pc[field]
    return out


def test_proxies(ctx):
    with FakeEngine() as eng:
        host = eng.docker_host
        cfg = config({"auths": {}, "proxies": {"default": ALL_FIVE}})
        both("proxies.default, all five", eng, ctx, env_for(eng, cfg), [], expand(ALL_FIVE))

        mine = {"httpsProxy": "https://mine:1", "noProxy": "mine.local"}
        cfg = config({"proxies": {"default": ALL_FIVE, host: mine,
                                  "tcp://10.0.0.1:2376": {"httpProxy": "http://other:9"}}})
        both("the entry named by the engine's host (unix://SOCKET) only, not default's",
             eng, ctx, env_for(eng, cfg), [], expand(mine))

        cfg = config({"proxies": {"default": ALL_FIVE,
                                  "tcp://10.0.0.1:2376": {"httpProxy": "http://other:9"},
                                  host + "/": {"httpProxy": "http://slash:9"}}})
        both("an entry naming another host is not used: default's", eng, ctx,
             env_for(eng, cfg), [], expand(ALL_FIVE))

        cfg = config({"proxies": {"default": ALL_FIVE}})
        env = env_for(eng, cfg)
        want = expand(ALL_FIVE)
        want["HTTP_PROXY"] = "x"
        want["no_proxy"] = None
        want["OTHER"] = "1"
        both("--build-arg HTTP_PROXY=x wins (http_proxy still added); a bare --build-arg "
             "no_proxy stays null", eng, ctx, env,
             ["--build-arg", "HTTP_PROXY=x", "--build-arg", "no_proxy", "--build-arg",
              "OTHER=1"], want)

        env["ftp_proxy"] = "from-env"
        want = expand(ALL_FIVE)
        want["ftp_proxy"] = "from-env"
        both("a bare --build-arg ftp_proxy takes the environment's value, not the config's",
             eng, ctx, env, ["--build-arg", "ftp_proxy"], want)

        cfg = config({"proxies": {"default": {"httpProxy": "", "noProxy": "n", "x": 1},
                                  host: None}})
        both("the engine's entry null: an empty entry, default's not used (no buildargs)",
             eng, ctx, env_for(eng, cfg), [], None)

        cfg = config({"Proxies": {"default": {"HTTPPROXY": "up", "httpProxy": None,
                                              "noproxy": "np"}}})
        both("keys of config.json's fields matched without regard to case, null unchanged",
             eng, ctx, env_for(eng, cfg), [],
             {"HTTP_PROXY": "up", "http_proxy": "up", "NO_PROXY": "np", "no_proxy": "np"})

        for what, obj in (("no config.json", None), ("an empty config.json", ""),
                          ("config.json without proxies", {"auths": {}})):
            both(what + ": no buildargs", eng, ctx, env_for(eng, config(obj)), [], None)

        for what, obj, frag in (
                ("a proxy value not a string",
                 '{"proxies":{"default":{"httpProxy":5,"httpsProxy":"h"}}}',
                 "proxies[default].httpProxy is not a string"),
                ("proxies not an object", '{"proxies":[]}', "proxies is not an object"),
                ("an entry not an object", '{"proxies":{"elsewhere":"x"}}',
                 "proxies[elsewhere] is not an object"),
                ("config.json not JSON", '{"proxies":', "not valid JSON")):
            cfg = config(obj)
            rc, err, _, n = sent(eng, [CTXPACK, "build"], [], ctx, env_for(eng, cfg))
            path = os.path.join(cfg, "config.json")
            tap.check("%s: exit 1, the message names the file and what, nothing sent" % what,
                      rc == 1 and n == 0 and ("'%s'" % path) in err and frag in err,
                      "rc %s, %d sent: %s" % (rc, n, err))


def test_hosts(ctx):
    """The key is the host as the docker CLI writes it: a schemeless or
    tcp:// DOCKER_HOST as ParseHost normalises it, a context's as written."""
    with FakeEngine(tcp=True) as eng:
        port = eng.port
        key = "tcp://127.0.0.1:%d" % port
        cfg = config({"proxies": {"default": {"httpProxy": "http://default:1"},
                                  key: {"allProxy": "socks5://tcp:1"}}})
        both("tcp://127.0.0.1:PORT: that entry", eng, ctx, env_for(eng, cfg), [],
             {"ALL_PROXY": "socks5://tcp:1", "all_proxy": "socks5://tcp:1"})
        both("DOCKER_HOST=127.0.0.1:PORT (no scheme): the entry of tcp://127.0.0.1:PORT",
             eng, ctx, env_for(eng, cfg, host="127.0.0.1:%d" % port), [],
             {"ALL_PROXY": "socks5://tcp:1", "all_proxy": "socks5://tcp:1"})

    with FakeEngine() as eng:
        name = "px"
        cfg = config({"currentContext": name,
                      "proxies": {"default": {"httpProxy": "http://default:1"},
                                  eng.docker_host: {"noProxy": "ctx.local"}}})
        meta = os.path.join(cfg, "contexts", "meta", hashlib.sha256(name.encode()).hexdigest())
        os.makedirs(meta)
        with open(os.path.join(meta, "meta.json"), "w") as f:
            json.dump({"Name": name, "Metadata": {},
                       "Endpoints": {"docker": {"Host": eng.docker_host,
                                                "SkipTLSVerify": False}}}, f)
        both("the engine of config.json's currentContext: the entry of its host", eng, ctx,
             env_for(eng, cfg, host=False), [], {"NO_PROXY": "ctx.local",
                                                 "no_proxy": "ctx.local"})


def test_ssh(ctx):
    """ssh://: the docker CLI's client talks to its connection helper as
    http://docker.example.com, the key it looks up (through the fake ssh of
    test_build_remote.py, bridging to the stand-in engine)."""
    from test_build_remote import fake_ssh_dir
    bindir = fake_ssh_dir()
    with FakeEngine() as eng:
        url = "ssh://user@host:2222"
        cfg = config({"proxies": {"default": {"httpProxy": "http://default:1"},
                                  url: {"allProxy": "socks5://as-written:1"},
                                  "http://docker.example.com": {"noProxy": "ssh.local"}}})
        env = env_for(eng, cfg, host=url)
        env["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
        env["FAKE_SSH_LOG"] = os.path.join(tap.mkdtemp("ctxpack-proxy-ssh-"), "argv")
        env["FAKE_SSH_SOCKET"] = eng.socket_path
        both("ssh://user@host:2222: the entry of http://docker.example.com", eng, ctx, env,
             [], {"NO_PROXY": "ssh.local", "no_proxy": "ssh.local"})


def test_skip_unchanged(ctx):
    """The proxies change the build: --skip-unchanged's ctxpack.build label
    (the query's digest) differs with them."""
    with FakeEngine() as eng:
        labels = []
        for obj in ({"auths": {}}, {"proxies": {"default": {"httpProxy": "http://p:1"}}}):
            env = env_for(eng, config(obj))
            env["XDG_CACHE_HOME"] = tap.mkdtemp("ctxpack-proxy-xdg-")
            n = len(eng.captures)
            r = subprocess.run([CTXPACK, "build", "--skip-unchanged", "-t", "px:1", ctx],
                               env=env, capture_output=True, timeout=60)
            eng.wait_idle()
            q = urllib.parse.parse_qs(eng.captures[-1].query) if len(eng.captures) > n else {}
            labels.append(json.loads(q.get("labels", ["{}"])[0]).get("ctxpack.build")
                          if r.returncode == 0 else r.stderr)
        tap.check("--skip-unchanged: the build's digest differs with a proxy in config.json",
                  all(isinstance(x, str) for x in labels) and labels[0] != labels[1], labels)


def main():
    ctx = tap.tree({"Dockerfile": b"FROM scratch\nCOPY a.txt /\n", "a.txt": b"a\n"},
                   prefix="ctxpack-proxy-ctx-")
    test_proxies(ctx)
    test_hosts(ctx)
    test_ssh(ctx)
    test_skip_unchanged(ctx)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

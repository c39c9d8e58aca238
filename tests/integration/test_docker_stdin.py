#!/usr/bin/env python3
"""`ctxpack pack ... | docker build -` and kaniko's `--context tar://stdin`.

docker build - (classic builder, through the stand-in engine of
tests/oracle/fakeengine.py): ctxpack's archive is piped into the real docker
CLI (DOCKER_BUILDKIT=0, DOCKER_HOST=unix://<temp socket>); the engine must
receive exactly the bytes ctxpack wrote, with the -f name as the dockerfile
query parameter, and the same members, in the same order, as docker sends
when it walks the directory itself (`docker build DIR`).  The tree has a
.dockerignore with exceptions, a Dockerfile in a subdirectory, symlinks, an
excluded node_modules, and, in a second case, a Dockerfile outside the
context (ctxpack's .dockerfile.<hex> name).  --compress=gzip and
--compress=zstd are piped in as well: the CLI passes a compressed stdin
through unchanged (it only peeks at the magic bytes), so the engine gets
the compressed stream and decompressing it gives the plain archive.

kaniko (not installable here): its stdin context is a gzip-compressed tar.
The contract is checked without it: `pack --compress=gzip` is one complete
gzip stream with nothing after it, decompresses to exactly the plain
archive, reads back as a tar whose members are what `ctxpack ls` lists, and
is the same bytes on every run and thread count.

Checks that need docker or zstd are reported as `# SKIP` without them.

usage: test_docker_stdin.py PATH_TO_CTXPACK"""
import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import zlib
from urllib.parse import parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
sys.path.insert(0, os.path.join(HERE, "..", "oracle"))
import tap  # noqa: E402
import fakeengine  # noqa: E402
import fuzz_docker  # noqa: E402
import record  # noqa: E402

CTXPACK = os.path.abspath(sys.argv[1])
DF_NAME = re.compile(r"\.dockerfile\.[0-9a-f]{20}(?![0-9a-f])")


def env():
    e = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    e["XDG_CACHE_HOME"] = CACHE
    return e


def ctxpack(args, cwd, timeout=60):
    p = subprocess.run([CTXPACK] + args, cwd=cwd, stdin=subprocess.DEVNULL,
                       capture_output=True, env=env(), timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def members(data):
    return [(m["name"], m["type"]) for m in record.parse_tar(data)[0]]


def make_tree():
    """The context: .dockerignore with exceptions, sub/Dockerfile,
    symlinks (file, directory, dangling), node_modules excluded."""
    base = tap.mkdtemp("ctxpack-integ-")
    d = os.path.join(base, "ctx")
    files = {
        "sub/Dockerfile": b"FROM scratch\nCOPY . /\n",
        "app/main.py": b"print('hi')\n",
        "app/util.py": b"X = 1\n",
        "app/debug.log": b"noise\n",
        "debug.log": b"noise\n",
        "docs/a.md": b"a\n",
        "docs/keep.md": b"kept\n",
        "node_modules/pkg/index.js": b"module.exports = 1\n",
        "node_modules/pkg/package.json": b"{}\n",
        "build/out/a/b.txt": b"b\n",
        "build/out/c.bin": b"\x00\x01\x02",
        "secret.key": b"not really\n",
        "secret.pub": b"public\n",
        "README.md": b"# readme\n",
    }
    for path, content in files.items():
        tap.write(d, path, content)
    tap.write(d, ".dockerignore",
              b"# exceptions, a directory pattern, globs\n"
              b"node_modules\n**/*.log\ndocs\n!docs/keep.md\n"
              b"build\n!build/out/a\nsecret*\n!secret.pub\n")
    os.makedirs(os.path.join(d, "empty"))
    os.symlink("app/main.py", os.path.join(d, "main-link"))
    os.symlink("app", os.path.join(d, "app-link"))
    os.symlink("does/not/exist", os.path.join(d, "dangling"))
    os.symlink("../pkg", os.path.join(d, "node_modules", "pkg-link"))
    os.makedirs(os.path.join(base, "ext"))
    tap.write(base, "ext/Dockerfile", b"FROM scratch\nCOPY app /app\n")
    return base, d


def pipe_to_docker(eng, pack_args, docker_args, cwd):
    """`ctxpack PACK_ARGS | docker build DOCKER_ARGS -`, a real pipe; the
    bytes ctxpack wrote are recorded on the way (a tee).  Returns
    (pack rc, bytes written, pack stderr, docker rc, docker stderr, the
    engine's captures for this run)."""
    before = len(eng.captures)
    pk = subprocess.Popen([CTXPACK] + pack_args, cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
    dk = subprocess.Popen([fakeengine.docker_cli(), "build"] + docker_args + ["-"], cwd=cwd,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=eng.docker_env())
    written = []
    errs = {}

    def tee():
        try:
            while True:
                b = pk.stdout.read(65536)
                if not b:
                    break
                written.append(b)
                dk.stdin.write(b)
        except BrokenPipeError:
            pass
        finally:
            try:
                dk.stdin.close()
            except BrokenPipeError:
                pass

    def drain(name, f):
        errs[name] = f.read()

    threads = [threading.Thread(target=tee),
               threading.Thread(target=drain, args=("pack", pk.stderr)),
               threading.Thread(target=drain, args=("docker", dk.stderr)),
               threading.Thread(target=drain, args=("out", dk.stdout))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    prc = pk.wait(60)
    drc = dk.wait(60)
    eng.wait_idle()
    return prc, b"".join(written), errs.get("pack", b""), drc, errs.get("docker", b""), \
        eng.captures[before:]


def query_param(cap, key):
    vals = parse_qs(cap.query).get(key)
    return vals[0] if vals else None


def test_docker(base, ctx):
    if fakeengine.docker_cli() is None:
        for name in ("docker build - (classic): pipe, bytes, members",
                     "docker build - with a Dockerfile outside the context",
                     "docker build - with --compress=gzip",
                     "docker build - with --compress=zstd"):
            tap.skip(name, "docker CLI not installed")
        return
    with fakeengine.FakeEngine() as eng:
        # -- the Dockerfile in a subdirectory ----------------------------------
        prc, sent, perr, drc, derr, caps = pipe_to_docker(
            eng, ["pack", "--builder=classic", "-f", "sub/Dockerfile", "."],
            ["-f", "sub/Dockerfile"], ctx)
        tap.check("classic, -f sub/Dockerfile: ctxpack pack exits 0 and writes an archive",
                  prc == 0 and len(sent) > 1024, (prc, perr, len(sent)))
        tap.check("classic, -f sub/Dockerfile: docker build - exits 0",
                  drc == 0, (drc, derr[-600:]))
        cap = caps[-1] if caps else None
        tap.check("the engine received one complete POST /build",
                  len(caps) == 1 and cap.complete, caps)
        tap.check("the engine received exactly the bytes ctxpack wrote (the CLI passes "
                  "a stdin tar through unchanged)",
                  cap is not None and cap.body == sent,
                  (cap and len(cap.body), len(sent)))
        tap.check("the CLI sends it as application/x-tar with dockerfile=sub/Dockerfile",
                  cap is not None and cap.headers.get("Content-Type") == "application/x-tar"
                  and query_param(cap, "dockerfile") == "sub/Dockerfile",
                  cap and (cap.headers, cap.query))
        own = eng.docker_build(ctx, ["-f", "sub/Dockerfile"])
        tap.check("docker build DIR (docker's own walk) exits 0 and sends a context",
                  own.returncode == 0 and own.tar is not None,
                  (own.returncode, own.stderr[-600:]))
        want = members(own.tar) if own.tar else None
        got = members(sent) if sent else None
        tap.check("member list (name, type, order) equals what docker build DIR sends",
                  want is not None and got == want, (want, got))
        names = [n for n, _ in (got or [])]
        tap.check("the tree exercised what it should: exceptions, symlinks, pruned "
                  "node_modules, the Dockerfile in sub/",
                  {"docs/keep.md", "build/out/a/b.txt", "secret.pub", "main-link",
                   "app-link", "dangling", "sub/Dockerfile", ".dockerignore"} <= set(names)
                  and not any(n.startswith(("node_modules", "docs/a.md", "secret.key"))
                              or n.endswith(".log") for n in names), names)
        problems = fuzz_docker.compare_tars(own.tar or b"", sent)
        tap.check("and byte for byte the archive docker writes itself", not problems,
                  problems)

        # -- a Dockerfile outside the context -----------------------------------
        rc, _, err = ctxpack(["pack", "--builder=classic", "-f", "../ext/Dockerfile", "."], ctx)
        m = DF_NAME.search(err.decode("utf-8", "replace"))
        gen = m.group(0) if m else None
        tap.check("outside Dockerfile: pack names the .dockerfile.<hex> to pass to -f",
                  rc == 0 and gen, (rc, err))
        if gen:
            prc, sent, perr, drc, derr, caps = pipe_to_docker(
                eng, ["pack", "--builder=classic", "-f", "../ext/Dockerfile", "."],
                ["-f", gen], ctx)
            cap = caps[-1] if caps else None
            tap.check("outside Dockerfile: docker build -f %s - exits 0; the engine got "
                      "the bytes and dockerfile=%s" % ("<name>", "<name>"),
                      prc == 0 and drc == 0 and cap is not None and cap.body == sent
                      and query_param(cap, "dockerfile") == gen,
                      (prc, drc, derr[-400:], cap and cap.query))
            lay = {}
            if sent:
                mm, _, layout = fuzz_docker.describe_tar(sent)
                lay = {x["name"]: sent[l[2]:l[3]] for x, l in zip(mm, layout)}
            tap.check("outside Dockerfile: the archive holds it under that name, "
                      "and .dockerignore lists the name",
                      lay.get(gen) == b"FROM scratch\nCOPY app /app\n"
                      and gen.encode() in lay.get(".dockerignore", b"").split(b"\n"),
                      sorted(lay))
            own = eng.docker_build(ctx, ["-f", "../ext/Dockerfile"])
            want = [(DF_NAME.sub(".dockerfile.X", n), t) for n, t in members(own.tar)] \
                if own.returncode == 0 and own.tar else None
            got = [(DF_NAME.sub(".dockerfile.X", n), t) for n, t in members(sent)] \
                if sent else None
            tap.check("outside Dockerfile: members equal docker build -f ../ext/Dockerfile "
                      "DIR (the CLI's random name aside)", want is not None and got == want,
                      (want, got))
        else:
            tap.skip("outside Dockerfile: docker build - with the printed name",
                     "pack printed no name")

        # -- compressed stdin ------------------------------------------------------
        plain_rc, plain, _ = ctxpack(["pack", "--builder=classic", "-f", "sub/Dockerfile",
                                      "."], ctx)
        for comp in ("gzip", "zstd"):
            if comp == "zstd" and shutil.which("zstd") is None:
                tap.skip("docker build - with --compress=zstd", "zstd not installed")
                continue
            prc, sent, perr, drc, derr, caps = pipe_to_docker(
                eng, ["pack", "--builder=classic", "--compress=" + comp, "-f",
                      "sub/Dockerfile", "."], ["-f", "sub/Dockerfile"], ctx)
            cap = caps[-1] if caps else None
            tap.check("--compress=%s | docker build -: docker exits 0, one complete body"
                      % comp, prc == 0 and drc == 0 and len(caps) == 1 and cap.complete,
                      (prc, drc, derr[-400:], caps))
            tap.check("--compress=%s: the CLI forwards the compressed stream unchanged "
                      "(still labelled application/x-tar; decompressing is the daemon's job)" % comp,
                      cap is not None and cap.body == sent
                      and cap.headers.get("Content-Type") == "application/x-tar"
                      and sent.startswith({"gzip": b"\x1f\x8b\x08",
                                           "zstd": b"\x28\xb5\x2f\xfd"}[comp]),
                      (cap and len(cap.body), len(sent), sent[:4]))
            if comp == "gzip":
                try:
                    body = gzip.decompress(cap.body) if cap else None
                except (OSError, EOFError) as e:
                    body = repr(e).encode()
            else:
                body = subprocess.run(["zstd", "-dc"], input=cap.body if cap else b"",
                                      capture_output=True).stdout
            tap.check("--compress=%s: what the engine got decompresses to the plain archive"
                      % comp, plain_rc == 0 and body == plain, (len(body or b""), len(plain)))


def test_kaniko_contract(ctx):
    rc, plain, err = ctxpack(["pack", "-f", "sub/Dockerfile", "."], ctx)
    tap.check("kaniko: the plain archive packs", rc == 0 and plain, err)
    rc, gz, err = ctxpack(["pack", "--compress=gzip", "-f", "sub/Dockerfile", "."], ctx)
    tap.check("kaniko: --compress=gzip exits 0 and starts with the gzip magic",
              rc == 0 and gz[:3] == b"\x1f\x8b\x08", (rc, err, gz[:4]))
    d = zlib.decompressobj(wbits=31)     # exactly one gzip member
    try:
        out = d.decompress(gz) + d.flush()
        ok = d.eof and d.unused_data == b"" and d.unconsumed_tail == b""
        detail = (d.eof, len(d.unused_data))
    except zlib.error as e:
        out, ok, detail = b"", False, str(e)
    tap.check("kaniko: one complete gzip stream, nothing after it (no trailing garbage)",
              ok, detail)
    try:
        out2 = gzip.decompress(gz)
    except (OSError, EOFError) as e:
        out2 = repr(e).encode()
    tap.check("kaniko: Python's gzip module decompresses it fully, to exactly the "
              "uncompressed pack output", out == plain and out2 == plain,
              (len(out), len(out2), len(plain)))
    rc, ls, err = ctxpack(["ls", "-z", "-f", "sub/Dockerfile", "."], ctx)
    want = [n.decode() for n in ls.split(b"\0")[:-1]]
    try:
        with tarfile.open(fileobj=io.BytesIO(gz), mode="r|gz") as t:
            got = [m.name + ("/" if m.isdir() else "") for m in t]
    except (tarfile.TarError, OSError, EOFError) as e:
        got = repr(e)
    tap.check("kaniko: read as a .tar.gz stream, the members are what ctxpack ls lists "
              "(the Dockerfile at the path --dockerfile names)",
              rc == 0 and got == want and "sub/Dockerfile" in want, (got, want))
    p = subprocess.run([CTXPACK, "digest", "-"], input=gz, capture_output=True, env=env())
    q = subprocess.run([CTXPACK, "digest", "-f", "sub/Dockerfile", "."], cwd=ctx,
                       capture_output=True, env=env())
    tap.check("kaniko: ctxpack digest of the .tar.gz equals the directory's",
              p.returncode == 0 and q.returncode == 0 and p.stdout == q.stdout
              and p.stdout.startswith(b"xxh3-128:"), (p.stdout, q.stdout, p.stderr))
    time.sleep(1.1)     # a time-stamped gzip header would now differ
    runs = {}
    for j in ("1", "2", "8"):
        rc, out, err = ctxpack(["pack", "--compress=gzip", "-j", j, "-f", "sub/Dockerfile",
                                "."], ctx)
        runs[j] = out if rc == 0 else err
    tap.check("kaniko: deterministic: the same gzip bytes on a later run and with "
              "-j 1, 2, 8", all(v == gz for v in runs.values()),
              {k: len(v) for k, v in runs.items()})
    tap.check("kaniko: the gzip header carries no timestamp (MTIME 0)",
              gz[4:8] == b"\0\0\0\0", gz[:10])


def main():
    global CACHE
    CACHE = tap.mkdtemp("ctxpack-integ-cache-")
    base, ctx = make_tree()
    test_docker(base, ctx)
    test_kaniko_contract(ctx)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())

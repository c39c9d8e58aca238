#!/usr/bin/env python3
"""check_manifest.py: the manifest and digest of ctxpack's context against
those of the docker CLI's own tar (TAP).

usage: check_manifest.py --ctxpack BIN --cases FILE [--live]

For every case with a recorded "docker_tar" (tests/tools/docker_tars.jsonl),
or, with --live, every case whose tree builds here with a fresh tar from the
docker CLI (classic builder, through the stand-in engine; skipped visibly
without docker): the tree is built (record.materialize, fixed mtimes) and

  * `ctxpack manifest DOCKER.tar`,
  * `ctxpack manifest CTXPACK.tar` (from `ctxpack pack --builder=classic`),
  * `ctxpack manifest --builder=classic DIR` (walked and hashed, no tar)

must be the same text, member for member, mtimes included, and the three
`ctxpack digest` lines the same.  Cases whose Dockerfile lies outside the
context are skipped: the docker CLI names it with random bytes.
"""
import argparse
import base64
import gzip
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import record  # noqa: E402
from check_vectors import dockerfile_arg  # noqa: E402


def run(argv, cwd=None, stdin=None):
    p = subprocess.run(argv, cwd=cwd, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(map(str, argv[:3])), p.returncode,
                                                 p.stderr.decode(errors="replace").strip()))
    return p.stdout


def check_case(binary, case, docker_tar, tmp):
    ctx = record.materialize(case, tmp)
    dfile = dockerfile_arg(case.get("args", []))
    fopt = ["-f", dfile] if dfile is not None else []
    dt = os.path.join(tmp, "docker.tar")
    with open(dt, "wb") as f:
        f.write(docker_tar)
    ct = os.path.join(tmp, "ctxpack.tar")
    run([binary, "pack", "--builder=classic", "-o", ct] + fopt + ["."], cwd=ctx)
    cache = ["--no-cache"]
    views = {
        "docker tar": run([binary, "manifest", dt]),
        "ctxpack tar": run([binary, "manifest", ct]),
        "directory": run([binary, "manifest", "--builder=classic"] + cache + fopt + ["."], cwd=ctx),
    }
    digests = {
        "docker tar": run([binary, "digest", dt]),
        "ctxpack tar": run([binary, "digest", ct]),
        "directory": run([binary, "digest", "--builder=classic"] + cache + fopt + ["."], cwd=ctx),
    }
    problems = []
    ref = views["docker tar"]
    for k, v in views.items():
        if v != ref:
            problems.append("manifest of the %s differs from the docker tar's:" % k)
            a, b = ref.splitlines(), v.splitlines()
            for x, y in zip(a, b):
                if x != y:
                    problems.append("  docker: %r" % x)
                    problems.append("  %s: %r" % (k, y))
                    break
            if len(a) != len(b):
                problems.append("  %d lines vs %d" % (len(a), len(b)))
    if len(set(digests.values())) != 1:
        problems.append("digests differ: %r" % digests)
    return problems, len(ref.splitlines()) - 1


def deliberate_error(case):
    """Why ctxpack makes no context where the docker CLI makes one, or "":
    a pattern construct it refuses to approximate (\\p, \\P, \\Q), and
    docker's silent truncations on lazily bad patterns (an error in ctxpack,
    README "Where ctxpack differs from Docker on purpose")."""
    exp = case.get("expect", {})
    ignore = case.get("dockerignore") or ""
    if any(k in ignore for k in ("\\p", "\\P", "\\Q")):
        return "ctxpack refuses this pattern construct on purpose"
    if "error" in exp or exp.get("tar_incomplete") or any(
            "Error matching" in m for m in exp.get("docker_log", ())):
        return "docker truncates or fails here; ctxpack fails on purpose"
    return ""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ctxpack", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--live", action="store_true")
    a = ap.parse_args(argv)
    cases = record.load_cases(a.cases)
    engine = None
    if a.live:
        import fakeengine
        if fakeengine.docker_cli() is None:
            print("1..0 # SKIP docker CLI not installed")
            return 0
        engine = fakeengine.FakeEngine().start()
    print("1..%d" % len(cases))
    bad = 0
    try:
        for i, c in enumerate(cases, 1):
            name = c["name"]
            if c.get("random") or c.get("outside"):
                print("ok %d - %s # SKIP the docker CLI names an outside Dockerfile randomly"
                      % (i, name))
                continue
            tmp = tempfile.mkdtemp(prefix="cm.")
            try:
                if engine:
                    res = engine.docker_build(record.materialize(c, tmp), c.get("args", []))
                    record.remove_tree(tmp)
                    os.mkdir(tmp)
                    if res.tar is None:
                        print("ok %d - %s # SKIP docker sent no context" % (i, name))
                        continue
                    tar = res.tar
                elif "docker_tar" in c:
                    tar = gzip.decompress(base64.b64decode(c["docker_tar"]))
                else:
                    print("ok %d - %s # SKIP no docker tar recorded" % (i, name))
                    continue
                why = deliberate_error(c)
                if why:
                    print("ok %d - %s # SKIP %s" % (i, name, why))
                    continue
                problems, n = check_case(os.path.abspath(a.ctxpack), c, tar, tmp)
            except record.Unbuildable as e:
                print("ok %d - %s # SKIP cannot build the tree here: %s" % (i, name, e))
                continue
            except Exception as e:      # reported, not raised
                problems, n = ["%s: %s" % (type(e).__name__, e)], 0
            finally:
                record.remove_tree(tmp)
            if problems:
                bad += 1
                print("not ok %d - %s" % (i, name))
                for p in problems[:20]:
                    print("# " + p)
            else:
                print("ok %d - %s (%d members agree)" % (i, name, n))
    finally:
        if engine:
            engine.stop()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

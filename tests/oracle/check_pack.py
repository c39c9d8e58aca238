#!/usr/bin/env python3
"""check_pack.py: run `ctxpack pack` on every recorded case and compare the
archive with what the builder sent, member for member (TAP).

usage: check_pack.py --ctxpack BIN --cases FILE --builder classic|buildkit

For each case the tree is built, `ctxpack pack --builder=B [-f F] .` runs in
the context directory (as docker build does), and the tar is parsed
byte-exactly (record.parse_tar).  A case passes when:
  * "members" cases: the member names and types equal the recording, in
    order; where headers were recorded, every recorded header field equals
    ctxpack's; the archive ends with exactly two zero blocks;
  * "error" cases: ctxpack exits 1 and writes an error on stderr.
BuildKit cases marked "dockerfile_not_sent": the Dockerfile, which ctxpack
always adds, may appear once at its walk position (a list: a symlink
Dockerfile, whose name and target ctxpack adds, must appear both).  Cases whose Dockerfile
lies outside the context ("random") compare with the generated name
normalised.  Docker's own silent truncations (a lazily bad pattern, an
unreadable re-included file) are expected to be errors in ctxpack.
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import record  # noqa: E402
from check_vectors import dockerfile_arg  # noqa: E402

HEADER_FIELDS = ("type", "mode", "uid", "gid", "size", "mtime", "linkname", "magic",
                 "uname", "gname", "devmajor", "devminor", "pax")
RANDOM_NAME = re.compile(r"\.dockerfile\.[0-9a-f]{20}")


def run_pack(binary, builder, ctx, dfile, user):
    argv = [binary, "pack", "--builder=" + builder, "."]
    if dfile is not None:
        argv[2:2] = ["-f", dfile]
    if user is not None and os.geteuid() == 0:
        argv = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups", "--"] + argv
    p = subprocess.run(argv, cwd=ctx, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout, p.stderr


def norm(name):
    return RANDOM_NAME.sub(".dockerfile.RANDOM", name)


def compare(case, builder, rc, out, err):
    exp = case["expect"]
    if case.get("random"):
        return compare_outside(exp, rc, out, err)
    if "error" in exp or exp.get("tar_incomplete") or any(
            "Error matching" in m for m in exp.get("docker_log", ())):
        if rc == 1 and err:
            return []
        return ["expected an error (docker: %s); ctxpack exited %s" % (
            exp.get("error") or exp.get("docker_log"), rc)]
    if rc != 0:
        if (rc == 1 and b"does not reproduce" in err and any(
                k in (case.get("dockerignore") or "") for k in ("\\p", "\\P", "\\Q"))):
            return []  # a documented refusal
        return ["ctxpack exited %s: %s" % (rc, err.decode("utf-8", "replace").strip()[:300])]
    try:
        members, end = record.parse_tar(out)
    except ValueError as e:
        return ["unparsable tar: %s" % e]
    problems = []
    if end != "eof":
        problems.append("archive end is %r, not exactly two zero blocks" % end)
    got = [(norm(m["name"]), m["type"]) for m in members]
    want = [(norm(n), t) for n, t in exp["members"]]
    if builder == "buildkit" and case.get("dockerfile_not_sent"):
        ns = case["dockerfile_not_sent"]
        dfs = set(ns) if isinstance(ns, list) else {
            os.path.normpath(dockerfile_arg(case.get("args", [])) or "Dockerfile")}
        if len(got) == len(want) + len(dfs):
            got = [g for g in got if g[0] not in dfs]
    if got != want:
        for i in range(max(len(got), len(want))):
            g = got[i] if i < len(got) else None
            w = want[i] if i < len(want) else None
            if g != w:
                problems.append("member %d: docker %s, ctxpack %s" % (i, w, g))
                if len(problems) > 6:
                    break
        return problems
    for h, m in zip(exp.get("headers", ()), members):
        for f in HEADER_FIELDS:
            if f in h and h.get(f) != m.get(f):
                problems.append("%s: %s is %r in docker's tar, %r in ctxpack's" % (
                    h["name"], f, h.get(f), m.get(f)))
    return problems


def compare_outside(exp, rc, out, err):
    """A Dockerfile outside the context: docker appends .dockerfile.<random>
    (and a new .dockerignore) in random order and truncates the stream;
    ctxpack must write a complete archive with the same members, the
    context's own members in docker's order, and the generated ones last."""
    if rc != 0:
        return ["ctxpack exited %s: %s" % (rc, err.decode("utf-8", "replace").strip()[:300])]
    members, end = record.parse_tar(out)
    problems = [] if end == "eof" else ["archive end is %r" % end]
    got = [(norm(m["name"]), m["type"]) for m in members]
    want = [(norm(n), t) for n, t in exp["members"]]
    if sorted(got) != sorted(want):
        problems.append("members differ: docker %s, ctxpack %s" % (want, got))
    generated = {(".dockerfile.RANDOM", "0")}
    if (".dockerignore", "0") not in want[:1]:
        generated.add((".dockerignore", "0"))
    if [g for g in got if g not in generated] != [w for w in want if w not in generated]:
        problems.append("context members out of docker's order: %s" % got)
    if got[-1:] != [(".dockerfile.RANDOM", "0")]:
        problems.append("the generated Dockerfile is not last: %s" % got)
    if b".dockerfile." not in err:
        problems.append("the generated name was not printed on stderr")
    return problems


def check(args, case):
    if "expect" not in case:
        return "fail", ["no expectation recorded"]
    with record.scratch("ctxpack-pack-") as tmp:
        try:
            ctx = record.materialize(case, tmp)
        except (record.Unbuildable, OSError) as e:
            return "skip", ["cannot build the tree here: %s" % e]
        rc, out, err = run_pack(args.ctxpack, args.builder, ctx,
                                dockerfile_arg(case.get("args", [])), case.get("user"))
        problems = compare(case, args.builder, rc, out, err)
    return ("fail", problems) if problems else ("pass", [])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ctxpack", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--builder", choices=("classic", "buildkit"), default="classic")
    ap.add_argument("--only")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    args.ctxpack = os.path.abspath(args.ctxpack)
    cases = record.load_cases(args.cases)
    if args.only:
        cases = [c for c in cases if re.search(args.only, c["name"])]
    print("1..%d" % len(cases))
    counts = {"pass": 0, "fail": 0, "skip": 0}
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as ex:
        for n, (c, (status, detail)) in enumerate(
                zip(cases, ex.map(lambda c: check(args, c), cases)), 1):
            counts[status] += 1
            if status == "skip":
                print("ok %d - %s # SKIP %s" % (n, c["name"], detail[0]))
                continue
            print("%s %d - %s" % ("ok" if status == "pass" else "not ok", n, c["name"]))
            for line in detail[:8]:
                print("#   " + line)
            sys.stdout.flush()
    print("# %d passed, %d failed, %d skipped" % (counts["pass"], counts["fail"], counts["skip"]))
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())

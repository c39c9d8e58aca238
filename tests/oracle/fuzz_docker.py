#!/usr/bin/env python3
"""fuzz_docker.py: randomized differential run, ctxpack vs the docker CLI.

    fuzz_docker.py --ctxpack BIN --seed S --count N [--builder classic]
                   [--keep-failures DIR] [--index I] [-j N]

Case I of seed S is generated from random.Random("S:I") alone, so any case
can be replayed with --seed S --index I.  Each case is a small random tree
(a few directories deep; names from a small alphabet with '.', '-', '_',
upper case, a UTF-8 letter, sometimes an invalid byte, and names such as
a.txt, node_modules, build, keep; some symlinks) and a random .dockerignore
of 3-8 rules (paths from the tree, '*', '?', '**/', '/**', '**' inside a
name, '[a-c]', '[^a]', '[!a]', '!' exceptions, leading and trailing '/',
comments, blank lines).

Docker (classic builder, through fakeengine) builds the context; ctxpack
check-ignore judges every path of the tree, and the two must agree as in
check_vectors.py.  Prints `ok`/`not ok` lines, details for each failure (the
seed and index, the .dockerignore, the differing paths) and
`# N passed, N failed`.  Failing cases are written as spec lines (no
"expect") to DIR/fuzz-failures.jsonl with --keep-failures, ready for
record.py.  Exit 0 if all agree, 1 on a difference, 77 without docker.
"""

import argparse
import concurrent.futures
import json
import os
import random
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_vectors  # noqa: E402
import fakeengine  # noqa: E402
import record  # noqa: E402

CHARS = "abc.-_Ax\u00e4"
SPECIAL = ["a.txt", "node_modules", "build", "keep", "src", "b.js", ".git",
           "a", "b", "x.pyc", "Docker", "a-b", "a.b", "A"]
INVALID = "\udcff"


# -- random trees -------------------------------------------------------------

def rand_name(rng):
    r = rng.random()
    if r < 0.45:
        return rng.choice(SPECIAL)
    n = "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.05:
        pos = rng.randint(0, len(n))
        n = n[:pos] + INVALID + n[pos:]
    if n in (".", ".."):
        n += "x"
    return n


def rand_tree(rng):
    """Return (entries, paths): tree entries and [(path, kind)]."""
    entries = [["f", "Dockerfile", "FROM scratch\n"]]
    kinds = {"Dockerfile": "f"}
    dirs = [""]
    for _ in range(rng.randint(6, 22)):
        parent = rng.choice(dirs)
        if parent.count("/") >= 3:
            parent = ""
        name = rand_name(rng)
        path = parent + name
        if path in kinds or path == ".dockerignore":
            continue
        r = rng.random()
        if r < 0.35 and path.count("/") < 3:
            entries.append(["d", path])
            kinds[path] = "d"
            dirs.append(path + "/")
        elif r < 0.42 and len(kinds) > 2:
            target = rng.choice(sorted(kinds))
            rel = "../" * path.count("/") + target
            if rng.random() < 0.3:
                rel = "nowhere"
            entries.append(["l", path, rel])
            kinds[path] = "l"
        else:
            entries.append(["f", path, "x"])
            kinds[path] = "f"
    return entries, kinds


# -- random .dockerignore -----------------------------------------------------

def mangle_component(rng, comp):
    r = rng.random()
    if r < 0.25:
        return "*"
    if r < 0.35 and comp:
        i = rng.randrange(len(comp))
        return comp[:i] + "?" + comp[i + 1:]
    if r < 0.45 and comp:
        i = rng.randrange(len(comp))
        return comp[:i] + "*"
    if r < 0.52 and comp:
        i = rng.randrange(len(comp))
        cls = rng.choice(["[a-c]", "[^a]", "[ab.]", "[A-Z]", "[^.]"])
        return comp[:i] + cls + comp[i + 1:]
    if r < 0.58 and comp:
        return "*" + comp[len(comp) // 2:]
    if r < 0.62 and comp:                   # '**' fast paths (item A5)
        i = rng.randrange(len(comp) + 1)
        return comp[:i] + "**" + comp[i:]
    if r < 0.65 and comp:                   # '[!a]' is not a negation
        i = rng.randrange(len(comp))
        return comp[:i] + "[!" + comp[i] + "]" + comp[i + 1:]
    return comp


def rand_rule(rng, kinds):
    r = rng.random()
    if r < 0.07:
        return rng.choice(["# comment", "#" + rand_name(rng), ""])
    if r < 0.15:
        body = rng.choice(["*", "**", "*.txt", "**/*.js", "**/keep", "?",
                           "*/", "**/build", "*/*", ".*", "node_modules",
                           "build/**", "**/a*", "[a-c]*", "[^a]*"])
    else:
        path = rng.choice(sorted(kinds))
        comps = path.split("/")
        if len(comps) > 1 and rng.random() < 0.3:
            comps = comps[:rng.randint(1, len(comps) - 1)]
        comps = [mangle_component(rng, c) if rng.random() < 0.4 else c
                 for c in comps]
        body = "/".join(comps)
        if rng.random() < 0.15:
            body = "**/" + body
        if rng.random() < 0.1:
            body += "/**"
        if rng.random() < 0.08:
            body += "/*"
    if rng.random() < 0.1:
        body = "/" + body
    if rng.random() < 0.1:
        body += "/"
    if rng.random() < 0.3:
        body = "!" + body
    if rng.random() < 0.05:
        body = " " + body + "\t"
    return body


def rand_case(seed, index):
    rng = random.Random("%s:%d" % (seed, index))
    entries, kinds = rand_tree(rng)
    rules = [rand_rule(rng, kinds) for _ in range(rng.randint(3, 8))]
    di = "".join(r + "\n" for r in rules)
    return {"name": "fuzz-s%s-%d" % (seed, index), "item": "F",
            "note": "fuzz_docker.py --seed %s --index %d" % (seed, index),
            "tree": entries, "dockerignore": di}


# -- running ------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.docker_secs = 0.0
        self.docker_runs = 0


def run_one(args, case, pool, stats):
    """Return (status, detail, expect)."""
    tmp = tempfile.mkdtemp(prefix="ctxfuzz.")
    try:
        ctx = record.materialize(case, tmp)
        res = pool.get().docker_build(ctx, case.get("args", []))
        with stats.lock:
            stats.docker_secs += res.seconds
            stats.docker_runs += 1
        exp = record.expect_from_result(case, res, ctx, os.fsencode(tmp))
        paths = record.walk_paths(ctx)
        rc, out, err = check_vectors.run_ctxpack(
            args.ctxpack, args.builder, os.fsdecode(ctx), paths,
            check_vectors.dockerfile_arg(case.get("args", [])), None)
        if "error" in exp:
            if rc == 2:
                return "pass", [], exp
            return "fail", ["docker failed: %s" % exp["error"],
                            "ctxpack exited %s (expected 2)" % rc], exp
        if exp.get("tar_incomplete"):
            return "pass", ["docker's tar broke off; not compared"], exp
        c = dict(case, expect=exp)
        o = check_vectors.compare_members(c, args.builder, paths, rc, out,
                                          err)
        return o.status, o.detail, exp
    finally:
        record.remove_tree(tmp)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ctxpack", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--index", type=int, help="run only case INDEX")
    ap.add_argument("--builder", choices=("classic",), default="classic",
                    help="the docker oracle here is the classic builder")
    ap.add_argument("--keep-failures", metavar="DIR")
    ap.add_argument("--print-cases", action="store_true",
                    help="only print the generated specs (JSON Lines)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    indexes = ([args.index] if args.index is not None
               else list(range(args.count)))
    cases = [rand_case(args.seed, i) for i in indexes]
    if args.print_cases:
        for c in cases:
            print(record.dump_case(c))
        return 0
    if fakeengine.docker_cli() is None:
        sys.stderr.write("fuzz_docker.py: docker CLI not installed; "
                         "nothing to compare against\n")
        return 77
    if not os.access(args.ctxpack, os.X_OK):
        sys.stderr.write("fuzz_docker.py: cannot run %s\n" % args.ctxpack)
        return 2
    args.ctxpack = os.path.abspath(args.ctxpack)
    pool = record.EnginePool()
    stats = Stats()
    failures = []
    passed = 0
    t0 = time.monotonic()
    print("1..%d" % len(cases))

    def one(c):
        try:
            return run_one(args, c, pool, stats)
        except Exception as e:          # a driver problem: report it
            return "fail", ["driver error: %s: %s" % (type(e).__name__, e)], \
                None
    try:
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as ex:
            for n, (c, (status, detail, exp)) in enumerate(
                    zip(cases, ex.map(one, cases)), 1):
                if status == "pass":
                    passed += 1
                    print("ok %d - %s" % (n, c["name"]))
                else:
                    failures.append(c)
                    print("not ok %d - %s" % (n, c["name"]))
                    print("# seed %s index %d" % (args.seed,
                                                  indexes[n - 1]))
                    print("# .dockerignore: %s" % json.dumps(
                        c["dockerignore"], ensure_ascii=True))
                    for line in detail[:check_vectors.MAX_DETAIL]:
                        print("#   " + line)
                sys.stdout.flush()
    finally:
        pool.close()
    wall = time.monotonic() - t0
    if args.keep_failures and failures:
        os.makedirs(args.keep_failures, exist_ok=True)
        path = os.path.join(args.keep_failures, "fuzz-failures.jsonl")
        with open(path, "a", encoding="ascii") as f:
            for c in failures:
                f.write(record.dump_case(c) + "\n")
        print("# failing specs appended to %s" % path)
    if stats.docker_runs:
        print("# docker: %d runs, %.1f ms each on average; wall %.1f s "
              "with %d jobs" % (stats.docker_runs,
                                1000 * stats.docker_secs / stats.docker_runs,
                                wall, args.jobs))
    print("# %d passed, %d failed" % (passed, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

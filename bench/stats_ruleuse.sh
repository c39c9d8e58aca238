#!/usr/bin/env bash
# What rule use costs `stats`: rule_use_compute (src/ruleuse.c, one pass
# over the walk per rule) runs only for what reports it: --json (so
# --html and pack --stats=FILE), --fail-on-dead-rules, and the text report
# when a rule decides nothing.  Times `stats` (text) and `stats --json` on
# each tree with this build and, when BEFORE names another ctxpack (e.g.
# one built from an earlier commit), with that one; medians of wall and
# CPU (user + sys) time over RUNS after one warm-up run, and whether the two print the same report.  Run
# bench/used_dockerfiles.sh CORPORA_DIR first: trees without a Dockerfile
# of their own get one through -f.
#
# usage: [BEFORE=OLD_CTXPACK] [BUILD=build-rel] bench/stats_ruleuse.sh CORPORA_DIR [RUNS [TREE...]]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpora=${1:?usage: bench/stats_ruleuse.sh CORPORA_DIR [RUNS [TREE...]]}
runs=${2:-5}
shift $(( $# < 2 ? $# : 2 ))
trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(node-app monorepo many-small few-large)
ctxpack=${BUILD:-$here/../build}/src/cli/ctxpack
before=${BEFORE:-}
python3 - "$corpora" "$runs" "$ctxpack" "$before" "${trees[@]}" <<'PY'
import os, statistics, subprocess, sys, time
corpora, runs, after, before, *trees = sys.argv[1:]
runs = int(runs)
progs = [("after", after)] + ([("before", before)] if before else [])

def run(prog, args, tree):
    # The tree's Dockerfile from bench/used_dockerfiles.sh when there is one
    # (many-small and few-large have none of their own).
    df = os.path.join(corpora, tree + ".ctxpack.Dockerfile")
    cmd = [prog, "stats", "-q"] + (["-f", df] if os.path.exists(df) else []) + args + \
        [os.path.join(corpora, tree)]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)  # warm-up
    times, cpu = [], []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        times.append(time.perf_counter() - t)
        cpu.append(ru.ru_utime + ru.ru_stime)
    return statistics.median(times), statistics.median(cpu), out

print("| tree | command | " + " | ".join(f"{n}: wall s | {n}: CPU s" for n, _ in progs) +
      (" | CPU after/before | same output |" if before else " |"))
print("|---|---|" + "---:|---:|" * len(progs) + ("---:|---|" if before else ""))
for tree in trees:
    if not os.path.isdir(os.path.join(corpora, tree)):
        print(f"| {tree} | (absent) |", file=sys.stderr)
        continue
    for label, args in (("stats", []), ("stats --json", ["--json"])):
        res = [run(p, args, tree) for _, p in progs]
        row = f"| {tree} | {label} | " + " | ".join(f"{t:.3f} | {c:.3f}" for t, c, _ in res)
        if before:
            row += f" | {res[0][1] / res[1][1]:.2f} | {'yes' if res[0][2] == res[1][2] else 'NO'}"
        print(row + " |", flush=True)
PY

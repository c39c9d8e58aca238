#!/usr/bin/env bash
# What the Dockerfile analysis costs `stats`: the same program on the same
# tree with the tree's Dockerfile (bench/used_dockerfiles.sh: read, unread,
# BuildKit's transfer) and with an empty one (the analysis stops at once:
# "file with no instructions").  Runs alternate between the two; medians
# of wall and CPU (user + sys) time over RUNS after one warm-up each, and
# what the analysis found.
#
# usage: [BUILD=build-rel] bench/used_cost.sh CORPORA_DIR [RUNS [TREE...]]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpora=${1:?usage: bench/used_cost.sh CORPORA_DIR [RUNS [TREE...]]}
runs=${2:-5}
shift $(( $# < 2 ? $# : 2 ))
trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(node-app monorepo many-small few-large)
ctxpack=${BUILD:-$here/../build}/src/cli/ctxpack
python3 - "$corpora" "$runs" "$ctxpack" "${trees[@]}" <<'PY'
import json, os, statistics, subprocess, sys, tempfile, time
corpora, runs, prog, *trees = sys.argv[1:]
runs = int(runs)
empty = tempfile.NamedTemporaryFile(suffix=".Dockerfile")

def once(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    return time.perf_counter() - t, ru.ru_utime + ru.ru_stime, out

def mib(n):
    return "%.1f MiB" % (n / 1048576)

print("| tree | without: wall s | with: wall s | wall +% | without: CPU s | with: CPU s | CPU +% | sent | read | unread | BuildKit transfer |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for tree in trees:
    d = os.path.join(corpora, tree)
    df = os.path.join(corpora, tree + ".ctxpack.Dockerfile")
    if not os.path.isdir(d) or not os.path.exists(df):
        print("%s: no tree or no Dockerfile (bench/used_dockerfiles.sh)" % tree, file=sys.stderr)
        continue
    base = [prog, "stats", "-q", "--json"]
    cmds = {"without": base + ["-f", empty.name, d], "with": base + ["-f", df, d]}
    res = {k: [] for k in cmds}
    for k, c in cmds.items():
        once(c)  # warm-up
    for _ in range(runs):
        for k, c in cmds.items():
            res[k].append(once(c))
    doc = json.loads(res["with"][-1][2])
    wall = {k: statistics.median(r[0] for r in v) for k, v in res.items()}
    cpu = {k: statistics.median(r[1] for r in v) for k, v in res.items()}
    u, t = doc["used"], doc["transfer"]
    print("| %s | %.3f | %.3f | %+.1f%% | %.3f | %.3f | %+.1f%% | %s | %s | %s | %s |" % (
        tree, wall["without"], wall["with"], 100 * (wall["with"] / wall["without"] - 1),
        cpu["without"], cpu["with"], 100 * (cpu["with"] / cpu["without"] - 1),
        mib(doc["sent"]["bytes"]), mib(u["read"]["bytes"]) if u["read"] else u["unknown"],
        mib(u["unread"]["bytes"]) if u["unread"] else "-",
        mib(t["bytes"]) if t else "-"), flush=True)
PY

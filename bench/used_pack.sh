#!/usr/bin/env bash
# `pack --used` (only what the Dockerfile's build reads: bench/used_dockerfiles.sh
# writes one per tree) against `pack` of the whole context, on each tree:
# archive bytes and members, and medians of wall and CPU time over RUNS
# after one warm-up run each (the archive piped to cat, into /dev/null).
#
# usage: [BUILD=build-rel] [BUILDER=buildkit] bench/used_pack.sh CORPORA_DIR [RUNS [TREE...]]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpora=${1:?usage: bench/used_pack.sh CORPORA_DIR [RUNS [TREE...]]}
runs=${2:-3}
shift $(( $# < 2 ? $# : 2 ))
trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(node-app monorepo many-small few-large)
ctxpack=${BUILD:-$here/../build}/src/cli/ctxpack
python3 - "$corpora" "$runs" "$ctxpack" "${BUILDER:-buildkit}" "${trees[@]}" <<'PY'
import os, statistics, subprocess, sys, time
corpora, runs, prog, builder, *trees = sys.argv[1:]
runs = int(runs)

def once(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = 0
    while True:
        b = p.stdout.read(1 << 20)
        if not b:
            break
        n += len(b)
    _, status, ru = os.wait4(p.pid, 0)
    if status:
        raise SystemExit("%s failed" % cmd)
    return time.perf_counter() - t, ru.ru_utime + ru.ru_stime, n

print("| tree | builder | pack: MiB | --used: MiB | size | pack: wall s | --used: wall s | pack: CPU s | --used: CPU s |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for tree in trees:
    d = os.path.join(corpora, tree)
    df = os.path.join(corpora, tree + ".ctxpack.Dockerfile")
    if not os.path.exists(df):
        print("%s: no Dockerfile (bench/used_dockerfiles.sh)" % tree, file=sys.stderr)
        continue
    base = [prog, "pack", "-q", "--builder=" + builder, "-f", df]
    cmds = {"pack": base + [d], "used": base + ["--used", d]}
    res = {k: [] for k in cmds}
    for c in cmds.values():
        once(c)
    for _ in range(runs):
        for k, c in cmds.items():
            res[k].append(once(c))
    med = lambda k, i: statistics.median(r[i] for r in res[k])
    size = {k: res[k][-1][2] for k in cmds}
    print("| %s | %s | %.1f | %.1f | %.1f%% | %.3f | %.3f | %.3f | %.3f |" % (
        tree, builder, size["pack"] / 1048576, size["used"] / 1048576,
        100.0 * size["used"] / size["pack"], med("pack", 0), med("used", 0),
        med("pack", 1), med("used", 1)), flush=True)
PY

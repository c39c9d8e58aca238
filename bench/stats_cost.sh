#!/usr/bin/env bash
# What measuring costs: `ctxpack pack` against `ctxpack pack --stats=FILE`
# (the walk also descends into excluded directories, metadata only, and the
# report is computed) on the same tree in one hyperfine run; and `stats`
# alone.  Medians of RUNS, ratio to plain pack, peak RSS.
#
# usage: bench/stats_cost.sh CORPORA_DIR [RUNS [TREE...]]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpora=${1:?usage: bench/stats_cost.sh CORPORA_DIR [RUNS [TREE...]]}
runs=${2:-5}
shift $(( $# < 2 ? $# : 2 ))
trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(many-small)
ctxpack=${BUILD:-$here/../build}/src/cli/ctxpack
command -v hyperfine >/dev/null || { echo "stats_cost.sh: hyperfine is needed" >&2; exit 77; }
work=$(mktemp -d /tmp/ctxpack-statscost-XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "| tree | command | wall s (median) | CPU s (mean) | peak RSS MiB | vs pack |"
echo "|---|---|---:|---:|---:|---:|"
for tree in "${trees[@]}"; do
	dir=$corpora/$tree
	hyperfine --style none --warmup 1 --runs "$runs" --export-json "$work/$tree.json" \
		-n pack "$ctxpack pack --builder=classic '$dir' | cat >/dev/null" \
		-n "pack --stats" "$ctxpack pack --builder=classic --stats=$work/s.json '$dir' | cat >/dev/null" \
		-n stats "$ctxpack stats --builder=classic '$dir' >/dev/null" >/dev/null
	rss_pack=$(/usr/bin/time -f %M "$ctxpack" pack --builder=classic "$dir" -o /dev/null 2>&1 >/dev/null | tail -1)
	rss_stats=$(/usr/bin/time -f %M "$ctxpack" pack --builder=classic --stats="$work/s.json" "$dir" -o /dev/null 2>&1 >/dev/null | tail -1)
	rss_only=$(/usr/bin/time -f %M "$ctxpack" stats --builder=classic "$dir" 2>&1 >/dev/null | tail -1)
	python3 - "$work/$tree.json" "$tree" "$rss_pack" "$rss_stats" "$rss_only" <<'PY'
import json, statistics, sys
path, tree, *rss = sys.argv[1:]
res = {r["command"]: r for r in json.load(open(path))["results"]}
base = statistics.median(res["pack"]["times"])
for name, kib in zip(("pack", "pack --stats", "stats"), rss):
    r = res[name]
    wall = statistics.median(r["times"])
    print(f"| {tree} | {name} | {wall:.3f} | {r['user'] + r['system']:.3f} | {int(kib) / 1024:.0f} | {wall / base:.2f}x |")
PY
done

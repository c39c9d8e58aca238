#!/usr/bin/env bash
# What `ctxpack suggest` reaches on the corpus trees, and what it costs.
#
# Each tree is copied with hard links (cp -al: no data is copied; --write
# replaces the copy's ignore file by a rename, the corpus keeps its own)
# twice: with the corpus's .dockerignore ("shipped") and without one
# ("none").  The Dockerfile is bench/suggest/TREE.Dockerfile (or
# few-large.Dockerfile for a tree whose name starts with few-large),
# outside the tree (-f).  For each copy: `ctxpack stats --json` (BuildKit:
# the sent bytes, and one walk's time), `ctxpack suggest --json` (wall, CPU
# and peak RSS), `ctxpack suggest --write`, and `ctxpack stats --json`
# again: the reduction in the table is the one stats measures after the
# write.  Both builders are checked (suggest's default).
#
# usage: bench/suggest_corpora.sh CORPORA_DIR [TREE...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpora=${1:?usage: bench/suggest_corpora.sh CORPORA_DIR [TREE...]}
shift
trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(node-app monorepo many-small few-large)
ctxpack=${BUILD:-$here/../build}/src/cli/ctxpack
work=$(mktemp -d /tmp/ctxpack-suggest-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "| tree | ignore file | rules | sent before | sent after | reduction | walks | suggest wall s | CPU s | peak RSS MiB | stats wall s |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for tree in "${trees[@]}"; do
	df=$here/suggest/$tree.Dockerfile
	case $tree in few-large*) df=$here/suggest/few-large.Dockerfile ;; esac
	for variant in shipped none; do
		copy=$work/$tree-$variant
		cp -al "$corpora/$tree/." "$copy"
		[ $variant = shipped ] || rm -f "$copy/.dockerignore"
		t0=$(date +%s.%N)
		"$ctxpack" stats --json -f "$df" "$copy" >"$work/before.json"
		t1=$(date +%s.%N)
		/usr/bin/time -f "%e %U %S %M" -o "$work/time" \
			"$ctxpack" suggest --json -f "$df" "$copy" >"$work/suggest.json"
		"$ctxpack" suggest --write -f "$df" "$copy" >/dev/null
		"$ctxpack" stats --json -f "$df" "$copy" >"$work/after.json"
		python3 - "$work" "$tree" "$variant" "$t0" "$t1" <<'PY'
import json, sys
work, tree, variant, t0, t1 = sys.argv[1:]
b = json.load(open(work + "/before.json"))["sent"]["bytes"]
a = json.load(open(work + "/after.json"))["sent"]["bytes"]
s = json.load(open(work + "/suggest.json"))
wall, user, sys_, rss = open(work + "/time").read().split()
mib = lambda n: "%.1f MiB" % (n / 1048576)
print("| %s | %s | %d | %s | %s | %.1f %% | %d | %s | %.2f | %.0f | %.2f |" % (
    tree, variant, len(s["rules"]), mib(b), mib(a), 100 * (1 - a / b) if b else 0,
    s["walks"], wall, float(user) + float(sys_), int(rss) / 1024, float(t1) - float(t0)))
PY
		rm -rf "$copy"
	done
done

#!/usr/bin/env bash
# What content identity costs, each pair timed in one hyperfine run on a
# warm page cache (medians of RUNS, ratio, peak RSS):
#
#   few-large   cat of the sent files > /dev/null  vs  digest --no-cache
#               (a cold hash cache: every sent byte read and hashed)
#   many-small  ls (the metadata walk of what is sent)  vs  digest with a
#               warm hash cache (no file content read)
#   few-large   pack | cat  vs  pack --manifest FILE | cat (hashing in the
#               read that archives)
#
# usage: bench/digest_cost.sh CORPORA_DIR [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpora=${1:?usage: bench/digest_cost.sh CORPORA_DIR [RUNS]}
runs=${2:-7}
ctxpack=${BUILD:-$here/../build}/src/cli/ctxpack
command -v hyperfine >/dev/null || { echo "digest_cost.sh: hyperfine is needed" >&2; exit 77; }
work=$(mktemp -d /tmp/ctxpack-digestcost-XXXXXX)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache

# pair NAME TREE LABEL_A CMD_A LABEL_B CMD_B: one table row
pair() {
	local name=$1 tree=$2 la=$3 ca=$4 lb=$5 cb=$6
	hyperfine --style none --warmup 1 --runs "$runs" --export-json "$work/$name.json" \
		-n "$la" "$ca" -n "$lb" "$cb" >/dev/null
	local rss
	rss=$(/usr/bin/time -f %M bash -c "$cb" 2>&1 >/dev/null | tail -1)
	python3 - "$work/$name.json" "$tree" "$la" "$lb" "$rss" <<'PY'
import json, statistics, sys
path, tree, la, lb, rss = sys.argv[1:]
res = {r["command"]: r for r in json.load(open(path))["results"]}
a = statistics.median(res[la]["times"])
b = statistics.median(res[lb]["times"])
print(f"| {tree} | {la} | {a:.3f} | {lb} | {b:.3f} | {b / a:.2f}x | {int(rss) / 1024:.0f} |")
PY
}

echo "| tree | baseline | s (median) | ctxpack | s (median) | ratio | peak RSS MiB |"
echo "|---|---|---:|---|---:|---:|---:|"
fl=$corpora/few-large
ms=$corpora/many-small
files=$(cd "$fl" && "$ctxpack" ls --builder=classic . | grep -v '/$' | sed "s|^|$fl/|" | tr '\n' ' ')
pair cold few-large "cat (read floor)" "cat $files >/dev/null" \
	"digest --no-cache" "$ctxpack digest --builder=classic --no-cache $fl"
"$ctxpack" digest --builder=classic "$ms" >/dev/null # fills the cache
sleep 1.1
pair warm many-small "ls (metadata walk)" "$ctxpack ls --builder=classic $ms >/dev/null" \
	"digest (warm cache)" "$ctxpack digest --builder=classic $ms"
pair manifest few-large "pack | cat" "$ctxpack pack --builder=classic $fl | cat >/dev/null" \
	"pack --manifest | cat" "$ctxpack pack --builder=classic --manifest $work/m $fl | cat >/dev/null"

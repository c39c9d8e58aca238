#!/usr/bin/env bash
# Times ctxpack against its peers on the benchmark trees, in one run, and
# prints a Markdown table of medians (wall, user+sys CPU), peak RSS and ratios.
#
# usage: bench/compare.sh CORPORA_DIR [RUNS [TREE...]]
#   CORPORA_DIR holds any of node-app/ monorepo/ many-small/ few-large/,
#   made as ../shared/corpora/README.md says (bench/make-corpora.sh does it).
#
# Peers, each reading the same tree with a warm page cache:
#   ctxpack|docker  ctxpack pack --builder=classic TREE | docker build -   (into sinkd)
#   docker          DOCKER_BUILDKIT=0 docker build TREE                     (into sinkd)
#   ctxpack         ctxpack pack --builder=classic TREE | cat > /dev/null
#   docker-py       docker.utils.build.tar(TREE, exclude=.dockerignore rules)
#   tar -X          GNU tar with the .dockerignore lines as --exclude-from (not Docker's semantics)
#   floor:find      find TREE (the walk)
#   floor:tar       GNU tar of exactly the included list | cat (walk + read + write)
#   floor:cat       cat of the included regular files (the read)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
corpora=${1:?usage: bench/compare.sh CORPORA_DIR [RUNS]}
runs=${2:-5}
shift $(( $# < 2 ? $# : 2 ))
trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(node-app monorepo many-small few-large)
build=${BUILD:-$top/build}
ctxpack=$build/src/cli/ctxpack
sinkd=$build/bench/sinkd
pybin=/usr/bin/python3

for tool in hyperfine docker tar "$pybin"; do
	command -v "$tool" >/dev/null || { echo "compare.sh: '$tool' is needed" >&2; exit 77; }
done
[ -x "$ctxpack" ] && [ -x "$sinkd" ] || { echo "compare.sh: build first (ninja -C $build)" >&2; exit 1; }

work=$(mktemp -d /tmp/ctxpack-bench-XXXXXX)
sock=$work/sinkd.sock
"$sinkd" "$sock" &
sink_pid=$!
trap 'kill $sink_pid 2>/dev/null; rm -rf "$work"' EXIT
export DOCKER_HOST=unix://$sock DOCKER_BUILDKIT=0
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$sock" ] && break; sleep 0.1; done

cat >"$work/dockerpy.py" <<'PY'
import sys, docker.utils.build as b
root = sys.argv[1]
with open(root + "/.dockerignore") as f:
    rules = [l.strip() for l in f if l.strip() and not l.startswith("#")]
t = b.tar(root, exclude=rules, dockerfile=("Dockerfile", None))
while t.read(1 << 20):
    pass
PY

rss() { # peak RSS in MiB of the first program of a command line (run alone, output discarded)
	local first=${1%%|*}
	first=${first%%>*}
	case $first in cd\ *|find\ *|tar\ *) printf -- '-'; return ;; esac
	eval "/usr/bin/time -o '$work/rss' -f %M $first" >/dev/null 2>&1 </dev/null || true
	awk '{printf "%.0f", $1/1024}' "$work/rss"
}

echo "| tree | command | wall s (median) | CPU s (mean) | peak RSS MiB (first program) | wall vs ctxpack |"
echo "|---|---|---:|---:|---:|---:|"
for tree in "${trees[@]}"; do
	dir=$(cd "$corpora/$tree" 2>/dev/null && pwd -P) || continue
	[ -d "$dir" ] || continue
	if [ ! -e "$dir/Dockerfile" ]; then
		printf 'FROM scratch\nCOPY . /ctx\n' >"$dir/Dockerfile"
	fi
	"$ctxpack" ls --builder=classic -z "$dir" >"$work/list0"
	(cd "$dir" && tr '\0' '\n' <"$work/list0" | while IFS= read -r p; do [ -f "$p" ] && [ ! -L "$p" ] && printf '%s\0' "$p"; done) >"$work/files0"
	declare -A cmd=(
		["ctxpack|docker"]="$ctxpack pack --builder=classic '$dir' | docker build -q - >/dev/null"
		["docker"]="docker build -q '$dir' >/dev/null"
		["ctxpack"]="$ctxpack pack --builder=classic '$dir' | cat >/dev/null"
		["docker-py"]="$pybin $work/dockerpy.py '$dir'"
		["tar -X"]="tar -c -C '$dir' --exclude-from='$dir/.dockerignore' . | cat >/dev/null"
		["floor:find"]="find '$dir' >/dev/null"
		["floor:tar"]="tar -c -C '$dir' --null --no-recursion -T '$work/list0' | cat >/dev/null"
		["floor:cat"]="cd '$dir' && xargs -0 cat <'$work/files0' >/dev/null"
	)
	order=("ctxpack|docker" "docker" "ctxpack" "docker-py" "tar -X" "floor:find" "floor:tar" "floor:cat")
	args=()
	for name in "${order[@]}"; do args+=(-n "$name" "${cmd[$name]}"); done
	hyperfine --shell=bash --style none --warmup 1 --runs "$runs" --export-json "$work/$tree.json" \
		"${args[@]}" >/dev/null
	peaks=()
	for name in "${order[@]}"; do peaks+=("$(rss "${cmd[$name]}")"); done
	"$pybin" - "$work/$tree.json" "$tree" "${order[@]}" <<'PY' "${peaks[@]}"
import json, statistics, sys
path, tree = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
names, peaks = rest[:len(rest) // 2], rest[len(rest) // 2:]
res = {r["command"]: r for r in json.load(open(path))["results"]}
base = statistics.median(res["ctxpack"]["times"])
for n, p in zip(names, peaks):
    r = res[n]
    wall = statistics.median(r["times"])
    cpu = r["user"] + r["system"]  # hyperfine's means
    print(f"| {tree} | {n} | {wall:.3f} | {cpu:.3f} | {p} | {wall / base:.2f}x |")
PY
	unset cmd
done

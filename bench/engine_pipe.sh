#!/usr/bin/env bash
# What `ctxpack pack DIR | docker build -` costs on a real engine, against
# `docker build DIR` and against the same tar POSTed to the Engine API, on
# BuildKit and on the classic builder, warm and cold.  Prints a Markdown
# table of medians and ratios, and the client's peak RSS (the docker CLI's, or ctxpack's).
#
# usage: bench/engine_pipe.sh [-n RUNS] [-c CORPORA_DIR] [-m METHODS] [-t warm,cold] SHAPE...
#   SHAPE: node-app monorepo many-small few-large (../shared/corpora/); a shape
#   missing from CORPORA_DIR (default /tmp/ctxpack-corpora) is made there with
#   its generator (few-large: 4.1 GiB).  Its Dockerfile is replaced by
#   `FROM scratch` + `COPY . /ctx/` (no container can run on this engine).
#   METHODS (default all), comma-separated:
#     bk-dir       docker build DIR                                   (BuildKit)
#     bk-pipe      ctxpack pack DIR | docker build -                  (BuildKit)
#     bk-api       the tar, packed beforehand, POSTed to /build?version=2 (BuildKit)
#     bk-api-pipe  ctxpack pack DIR | curl -T - POST /build?version=2 (streamed, chunked)
#     bk-build     ctxpack build DIR: pack's tar POSTed by ctxpack itself (BuildKit)
#     bk-skip      ctxpack build --skip-unchanged DIR: nothing sent when the image is there
#     cl-dir       DOCKER_BUILDKIT=0 docker build DIR                 (classic)
#     cl-pipe      ctxpack pack --builder=classic DIR | DOCKER_BUILDKIT=0 docker build -
#     cl-build     ctxpack build --builder=classic DIR                (classic)
#   warm: one untimed build by the same method first, then RUNS timed rebuilds
#   of the unchanged tree; cold: before each timed build (untimed) `docker
#   builder prune -af` and the bench's images removed (on many-small, minutes
#   on overlay2).  Every build is tagged ctxpack-bench:SHAPE.
#
# Needs the project's engine running (scripts/engine.sh fetch && scripts/engine.sh
# start), ctxpack built (BUILD, default build/), curl and GNU time.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
runs=5
corpora=/tmp/ctxpack-corpora
methods=bk-dir,bk-pipe,bk-api,bk-api-pipe,bk-build,bk-skip,cl-dir,cl-pipe,cl-build
temps=warm,cold
while getopts n:c:m:t: o; do
	case $o in
	n) runs=$OPTARG ;;
	c) corpora=$OPTARG ;;
	m) methods=$OPTARG ;;
	t) temps=$OPTARG ;;
	*) sed -n '7,8p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { sed -n '7,8p' "$0" >&2; exit 2; }
shapes=("$@")
build=${BUILD:-$top/build}
ctxpack=$build/src/cli/ctxpack
shapes_src=${CTXPACK_CORPORA_SRC:-$top/../shared/corpora}
[ -d "$shapes_src" ] || shapes_src=/work/shared/corpora

for tool in curl docker /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "engine_pipe.sh: '$tool' is needed" >&2; exit 77; }
done
[ -x "$ctxpack" ] || { echo "engine_pipe.sh: build first (ninja -C $build)" >&2; exit 1; }
if ! "$top/scripts/engine.sh" status >/dev/null 2>&1; then
	echo "engine_pipe.sh: no engine; start it: scripts/engine.sh fetch && scripts/engine.sh start" >&2
	exit 77
fi
eval "$("$top/scripts/engine.sh" env)"
sock=${DOCKER_HOST#unix://}
api=$(docker version --format '{{.Server.APIVersion}}')

work=$(mktemp -d /tmp/ctxpack-engine-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

make_shape() { # name dir
	local n=$1 d=$2
	[ -d "$d" ] && [ -e "$d/.dockerignore" ] && return 0
	rm -rf "$d"
	echo "engine_pipe.sh: making $n in $d" >&2
	case $n in
	node-app | monorepo)
		"$shapes_src/materialize.py" "$shapes_src/$n.tsv.zst" "$d" \
			--dockerignore "$shapes_src/$n.dockerignore" ;;
	many-small)
		"$shapes_src/gen-many-small.py" "$d" && cp "$shapes_src/many-small.dockerignore" "$d/.dockerignore" ;;
	few-large)
		gcc -O2 -o "$work/gen-few-large" "$shapes_src/gen-few-large.c" &&
			"$work/gen-few-large" "$d" && cp "$shapes_src/few-large.dockerignore" "$d/.dockerignore" ;;
	*) echo "engine_pipe.sh: unknown shape '$n'" >&2; exit 2 ;;
	esac
}

now() { date +%s.%N; }

# One build by METHOD of shape dir; prints its wall seconds.  RSS of ctxpack
# (KiB) goes to $work/rss, BuildKit's "transferring context" to $work/xfer.
one() { # method dir tag
	local m=$1 d=$2 tag=$3 t0 t1 rc=0
	: > "$work/rss"
	: > "$work/out"
	local url="http://localhost/v$api/build?dockerfile=Dockerfile&t=$tag"
	t0=$(now)
	case $m in
	bk-dir)
		DOCKER_BUILDKIT=1 /usr/bin/time -f %M -o "$work/rss" \
			docker build --progress=plain -t "$tag" "$d" > "$work/out" 2>&1 || rc=$? ;;
	bk-pipe)
		{ /usr/bin/time -f %M -o "$work/rss" "$ctxpack" pack "$d" |
			DOCKER_BUILDKIT=1 docker build --progress=plain -t "$tag" -; } > "$work/out" 2>&1 || rc=$? ;;
	bk-api)
		curl -sS --unix-socket "$sock" -X POST -H 'Content-Type: application/x-tar' \
			-T "$work/ctx-buildkit.tar" "$url&version=2" > "$work/out" 2>&1 || rc=$? ;;
	bk-api-pipe)
		{ /usr/bin/time -f %M -o "$work/rss" "$ctxpack" pack "$d" |
			curl -sS --unix-socket "$sock" -X POST -H 'Content-Type: application/x-tar' \
				-T - "$url&version=2"; } > "$work/out" 2>&1 || rc=$? ;;
	bk-build)
		/usr/bin/time -f %M -o "$work/rss" "$ctxpack" build -q -t "$tag" "$d" \
			> "$work/out" 2>&1 || rc=$? ;;
	bk-skip)
		/usr/bin/time -f %M -o "$work/rss" "$ctxpack" build -q --skip-unchanged -t "$tag" "$d" \
			> "$work/out" 2>&1 || rc=$? ;;
	cl-dir)
		DOCKER_BUILDKIT=0 /usr/bin/time -f %M -o "$work/rss" \
			docker build -q -t "$tag" "$d" > "$work/out" 2>&1 || rc=$? ;;
	cl-build)
		/usr/bin/time -f %M -o "$work/rss" "$ctxpack" build --builder=classic -q -t "$tag" "$d" \
			> "$work/out" 2>&1 || rc=$? ;;
	cl-pipe)
		{ /usr/bin/time -f %M -o "$work/rss" "$ctxpack" pack --builder=classic "$d" |
			DOCKER_BUILDKIT=0 docker build -q -t "$tag" -; } > "$work/out" 2>&1 || rc=$? ;;
	*) echo "engine_pipe.sh: unknown method '$m'" >&2; exit 2 ;;
	esac
	t1=$(now)
	if [ $rc -ne 0 ] || grep -q '"errorDetail"' "$work/out"; then
		echo "engine_pipe.sh: $m on $d failed (exit $rc):" >&2
		tail -n 5 "$work/out" >&2
		exit 1
	fi
	grep -o 'transferring context: [0-9.]*[kMG]*B' "$work/out" | tail -n1 | \
		sed 's/transferring context: //' > "$work/xfer" || true
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

cold_reset() {
	docker builder prune -af > /dev/null
	docker image ls -q 'ctxpack-bench' | sort -u | xargs -r docker image rm -f > /dev/null 2>&1 || true
	docker image prune -f > /dev/null
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

IFS=, read -r -a mlist <<< "$methods"
IFS=, read -r -a tlist <<< "$temps"
echo "| shape | builder | method | warm/cold | median s | runs (s) | vs docker build DIR | client peak RSS | BuildKit transferred |"
echo "|---|---|---|---|---:|---|---:|---:|---|"
for shape in "${shapes[@]}"; do
	dir=$corpora/$shape
	make_shape "$shape" "$dir"
	# a new file, not the tree's: the trees may be hard-linked copies
	rm -f "$dir/Dockerfile"
	printf 'FROM scratch\nCOPY . /ctx/\n' > "$dir/Dockerfile"
	"$ctxpack" pack -o "$work/ctx-buildkit.tar" "$dir"
	sent=$(stat -c %s "$work/ctx-buildkit.tar")
	echo "engine_pipe.sh: $shape: the BuildKit tar is $sent bytes" >&2
	declare -A base=()
	for temp in "${tlist[@]}"; do
		for m in "${mlist[@]}"; do
			tag=ctxpack-bench:$shape
			times=()
			rss=0
			xfer=""
			# warm: the method's own untimed build first (what an earlier method
			# left in the caches is then replaced or matched by it)
			[ "$temp" = warm ] && one "$m" "$dir" "$tag" > /dev/null
			for _ in $(seq "$runs"); do
				[ "$temp" = cold ] && cold_reset
				times+=("$(one "$m" "$dir" "$tag")")
				r=$(cat "$work/rss" 2>/dev/null || true)
				[ -n "$r" ] && [ "$r" -gt "$rss" ] && rss=$r
				x=$(cat "$work/xfer")
				[ -n "$x" ] && xfer="$xfer${xfer:+ }$x"
			done
			med=$(printf '%s\n' "${times[@]}" | median)
			case $m in bk-*) b=BuildKit ref=bk-dir ;; *) b=classic ref=cl-dir ;; esac
			[ "$m" = "$ref" ] && base[$ref/$temp]=$med
			ratio=-
			[ -n "${base[$ref/$temp]:-}" ] && ratio=$(awk -v a="$med" -v b="${base[$ref/$temp]}" \
				'BEGIN { printf "%.2f×", a / b }')
			# bk-dir, cl-dir: the docker CLI's (buildx's) peak; the pipes: ctxpack pack's
			case $m in bk-api) mem=- ;; *) mem="$((rss / 1024)) MiB" ;; esac
			echo "| $shape | $b | $m | $temp | $med | ${times[*]} | $ratio | $mem | ${xfer:--} |"
		done
	done
	unset base
done

#!/usr/bin/env bash
# Runs the whole test suite, what CI runs (.ci/run), each check at least
# once and each slow one (tests/meson.build: suite 'slow') only where it
# checks most: a build with warnings as errors runs the quick set, the
# comparisons with the live docker CLI (suite live, only here), fault-cli
# and the memory bounds of the hostile trees (hostile-memory); the same
# tests again under AddressSanitizer and UndefinedBehaviorSanitizer, but
# live, and with them the hostile trees and the fault-injection sweep; the
# unit and CLI tests (the walker, read-ahead, hashing threads) under
# ThreadSanitizer; the in-process unit tests under valgrind; the installed
# tree and the release tarball (scripts/check_install.sh,
# scripts/check_dist.sh: built from scratch, the quick set run); headless
# Chromium only in the first.  The configurations run side by side in
# three lanes; each phase's wall and CPU time is printed and kept in
# build-test/meson-logs/phases.txt.  tests/README.md says which suite
# covers which change and which configuration runs it.  Ends with "N
# passed, N failed, N skipped"; exit status 1 if anything failed.
#
#   scripts/test.sh           the whole run (CI)
#   scripts/test.sh --quick   the quick set (`meson test`'s default setup:
#                             no slow suite, no live docker) in build-test
set -uo pipefail
cd "$(dirname "$0")/.."
quick=
case ${1-} in
--quick) quick=1 ;;
"") ;;
*) echo "usage: scripts/test.sh [--quick]" >&2; exit 2 ;;
esac

scripts/install-deps.sh || exit 1

status=0
build_tree() { # builddir meson-setup-args...
	local dir=$1; shift
	if [ ! -d "$dir" ]; then
		meson setup "$dir" "$@" >/dev/null || return 1
	fi
	ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
}
run_suite() { # builddir meson-setup-args... -- meson-test-args...
	local dir=$1; shift
	local setup=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do setup+=("$1"); shift; done
	shift
	# a failed build must not count an old run (`--setup S` logs to testlog-S.json)
	rm -f "$dir"/meson-logs/testlog.json "$dir"/meson-logs/testlog-*.json
	timed "$dir: build" build_tree "$dir" "${setup[@]}" || return 1
	meson test -C "$dir" --print-errorlogs "$@"
}

# Each phase's wall time and CPU time (user+sys of everything it ran and
# waited for; not the engine's daemons), to stderr and, at the end, into
# build-test/meson-logs/phases.txt: on two cores wall >= CPU/2.
phase_dir=$(mktemp -d "${TMPDIR:-/tmp}/ctxpack-phases-XXXXXX")
trap 'rm -rf "$phase_dir"' EXIT
timed() { # name command...: runs the command in a subshell, returns its status
	local name=$1 t0 t1 rc
	shift
	t0=$(date +%s.%N)
	(
		"$@"
		rc=$?
		times >"$phase_dir/$name.times"
		exit $rc
	)
	rc=$?
	t1=$(date +%s.%N)
	awk -v name="$name" -v t0="$t0" -v t1="$t1" -v rc="$rc" '
		function sec(s,  m) { m = s; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", s); sub(/s$/, "", s); return m * 60 + s }
		NR == 2 { u = sec($1); y = sec($2) }
		END { printf "phase %s: wall %.0f s, cpu %.0f s (user %.0f, sys %.0f), exit %d\n", name, t1 - t0, u + y, u, y, rc }
	' "$phase_dir/$name.times" | tee -a "$phase_dir/phases.txt" >&2
	return $rc
}

summarize() { # logs...: prints "N passed, N failed, N skipped"
	python3 - "$@" <<'PY'
import json, sys, os
passed = failed = skipped = 0
for log in sys.argv[1:]:
    if log.endswith(".txt"):            # scripted checks: TAP-like lines
        lines = open(log).read().splitlines() if os.path.exists(log) else []
        if not any(l.startswith(("ok ", "not ok ")) for l in lines):
            failed += 1                   # the script ran no check
        for l in lines:
            if l.startswith("not ok "):
                failed += 1
            elif l.startswith("ok ") and "# SKIP" in l:
                skipped += 1
            elif l.startswith("ok "):
                passed += 1
        continue
    if not os.path.exists(log):
        if "valgrind" in log:
            skipped += 1    # valgrind missing: said above, counted as skipped
            continue
        failed += 1
        continue
    for line in open(log):
        t = json.loads(line)
        r = t.get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
}

if [ -n "$quick" ]; then
	run_suite build-test -Dwerror=true -- || status=1
	summarize build-test/meson-logs/testlog.json
	exit $status
fi

# The project's own engine (scripts/engine.sh: dockerd + BuildKit from
# Debian's packages, unpacked privately) for the suite 'engine' and the
# live re-checks of tests/vectors/used.jsonl, which read
# CTXPACK_ENGINE_HOST and skip visibly without it; they build on it in
# build-test only (the sanitizer runs get no engine: docker does the work
# there, not ctxpack).  Stopped at exit when this run started it.
scripts/engine.sh status >/dev/null 2>&1 || trap 'rm -rf "$phase_dir"; scripts/engine.sh stop' EXIT
engine_env=
if scripts/engine.sh fetch && scripts/engine.sh start; then
	engine_env=$(scripts/engine.sh env --tests)
else
	echo "NOTE: no engine (scripts/engine.sh fetch or start failed, see above): the" \
		"suite 'engine' skips its builds" >&2
fi

# The slow tests (tests/meson.build: suite 'slow') run where they check
# most, each hostile tree once: here the two whose memory bounds only a
# build without a sanitizer asserts (hostile-memory: the million files,
# the 100,000 hard links) and fault-cli (its RLIMIT_AS sweep needs a build
# without a sanitizer); under ASan+UBSan the other hostile trees and the
# fault-injection sweep (once: not again under TSan, whose unit and CLI
# runs keep the threads' normal paths).  Headless Chromium runs the HTML
# report's page script here only (CTXPACK_SKIP_BROWSER elsewhere): the
# browser and the script are the same whichever build wrote the page,
# whose bytes html-report checks in every build.
plain() { eval "$engine_env"; run_suite "$@"; }
no_browser() { CTXPACK_SKIP_BROWSER="Chromium runs the page in scripts/test.sh's normal build" "$@"; }
# The sanitizer builds are optimized at -O1 (as the sanitizers' manuals
# advise: several times faster than -O0, every check kept), with frame
# pointers for whole stacks in their reports.
sanitizer_build=(-Dwerror=true -Db_lundef=false -Doptimization=1 -Ddebug=true
	-Dc_args=-fno-omit-frame-pointer)

# valgrind: the in-process unit tests of build-test (errors and definite
# leaks fail them; see tests/meson.build), logged apart from the plain run.
valgrind_run() {
	rm -f build-test/meson-logs/valgrind-valgrind.json
	if command -v valgrind >/dev/null; then
		meson test -C build-test --setup valgrind --suite unit --print-errorlogs \
			--logbase valgrind
	else
		echo "valgrind not installed: the valgrind run is skipped" >&2
	fi
}

# What a user does after installing (man, completions, the library and
# its example through pkg-config, a pipe into docker build), and the
# release tarball built and tested from scratch: scripted checks, one
# "ok"/"not ok" line each, counted below.
scripted() { # script log: runs it, and a failure its lines do not show is one
	local rc
	"$1" build-test | tee "$2"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then
		grep -q '^not ok ' "$2" || echo "not ok - $1 exited $rc" | tee -a "$2"
	fi
	return "$rc"
}

# The configurations share no build directory and no temporary file, so
# they run side by side in three lanes (each ends when its slowest test
# does; on two cores one lane's idle time, a docker build or the single
# hostile-trees test, is another's CPU), each lane's output shown when
# it ends.  build-test is built first: its warnings fail the run before
# anything else starts, and the lanes of the normal build and of the
# tarball (meson dist -C build-test) need it.  Sharing the cores, a test
# takes longer than alone: the timeouts are tripled.
lane_test=(--timeout-multiplier 3)
lane_plain() {
	local rc=0
	timed plain plain build-test -Dwerror=true -- --setup full --no-suite hostile \
		--no-suite fault-sweep "${lane_test[@]}" || rc=1
	timed valgrind valgrind_run || rc=1
	timed install scripted scripts/check_install.sh build-test/meson-logs/install-check.txt || rc=1
	timed format scripted scripts/check_format.sh build-test/meson-logs/format-check.txt || rc=1
	return $rc
}
lane_asan() {
	HOSTILE_SKIP=1,5 no_browser timed asan run_suite build-asan -Db_sanitize=address,undefined \
		"${sanitizer_build[@]}" -- --setup full --no-suite live --no-suite engine \
		--no-suite fault-cli "${lane_test[@]}"
}
lane_tsan_dist() {
	local rc=0
	no_browser timed tsan run_suite build-tsan -Db_sanitize=thread "${sanitizer_build[@]}" -- \
		--suite unit --suite cli --no-suite fault-sweep --no-suite fault-cli "${lane_test[@]}" \
		|| rc=1
	no_browser timed dist scripted scripts/check_dist.sh build-test/meson-logs/dist-check.txt || rc=1
	return $rc
}
rm -f build-test/meson-logs/testlog.json build-test/meson-logs/testlog-*.json
if timed "build-test: first build" build_tree build-test -Dwerror=true; then
	lanes=(lane_plain lane_asan lane_tsan_dist)
	pids=()
	for l in "${lanes[@]}"; do
		"$l" >"$phase_dir/$l.log" 2>&1 &
		pids+=($!)
	done
	for i in "${!lanes[@]}"; do
		wait "${pids[$i]}" || status=1
		cat "$phase_dir/${lanes[$i]}.log"
	done
else
	status=1
fi
if ! command -v docker >/dev/null; then
	echo "NOTE: the docker CLI is not installed: every comparison with it was skipped" \
		"(the '# SKIP' lines above); the recorded expectations still ran" >&2
fi

summarize build-test/meson-logs/testlog-full.json build-asan/meson-logs/testlog-full.json \
	build-tsan/meson-logs/testlog.json build-test/meson-logs/valgrind-valgrind.json \
	build-test/meson-logs/install-check.txt build-test/meson-logs/dist-check.txt \
	build-test/meson-logs/format-check.txt
cp "$phase_dir/phases.txt" build-test/meson-logs/phases.txt 2>/dev/null
exit $status

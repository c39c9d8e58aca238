#!/usr/bin/env bash
# check_dist.sh: the release tarball builds and passes its tests from
# scratch.  `meson dist` packs the committed tree of BUILDDIR's source
# (default build-test; uncommitted changes make it refuse), unpacks the
# tarball in a new directory, configures, builds and runs `meson test`
# there (the default setup: the quick set; the slow suites and the live
# docker comparisons already ran once in scripts/test.sh's own builds of
# the same sources), and installs it; then the tarball's list is checked
# (the sources and tests are in it, no build output).
#
#   scripts/check_dist.sh [BUILDDIR]
#
# One line per check, "ok - ..." or "not ok - ..."; exit 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-test}
log=$build/meson-logs/dist.log
failed=0

rm -rf "$build/meson-dist" # only this run's tarball is checked below
if meson dist -C "$build" --formats xztar >"$log" 2>&1; then
	echo "ok - meson dist: the tarball configures, builds, passes its $(awk '/^Ok:/ { print $2; exit }' "$log") quick tests and installs"
else
	echo "not ok - meson dist: the tarball does not build or pass its tests (see $log)"
	tail -n 40 "$log" | sed 's/^/# /'
	exit 1
fi
tarball=$(ls "$build"/meson-dist/ctxpack-*.tar.xz | head -n 1)
list=$(tar -tJf "$tarball")
for f in meson.build README.md include/ctxpack/ctxpack.h src/pack.c src/cli/main.c \
	tests/meson.build scripts/test.sh examples/libctxpack/explain_pack.c; do
	if grep -qx "ctxpack-[^/]*/$f" <<<"$list"; then
		echo "ok - the tarball holds $f"
	else
		echo "not ok - the tarball holds $f"
		failed=1
	fi
done
if grep -qE '^ctxpack-[^/]*/(build[^/]*|\.git)/' <<<"$list"; then
	echo "not ok - the tarball holds no build directory and no .git"
	failed=1
else
	echo "ok - the tarball holds no build directory and no .git"
fi
exit $failed

#!/usr/bin/env bash
# check_install.sh: what a new user does after `meson install`, on a tree
# installed into a temporary DESTDIR from BUILDDIR (default build-test):
# the man page and completions (tests/completion/check_installed.sh), the
# library, its pkg-config file and the example built against them
# (tests/lib/check_installed.sh), and the installed ctxpack piping the
# example app's context into `docker build -` (the docker CLI talking to
# the stand-in engine of tests/oracle/fakeengine.py; skipped, visibly,
# without docker).
#
#   scripts/check_install.sh [BUILDDIR]
#
# One line per check, "ok - ...", "ok - ... # SKIP why" or "not ok - ...";
# exit status 1 if any check failed.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-test}
prefix=/usr/local
dest=$(mktemp -d "${TMPDIR:-/tmp}/ctxpack-dest-XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/ctxpack-install-XXXXXX")
engine=
cleanup() {
	[ -n "$engine" ] && kill "$engine" 2>/dev/null
	rm -rf "$dest" "$work"
}
trap cleanup EXIT
failed=0

if meson install -C "$build" --destdir "$dest" --no-rebuild >"$work/install.log" 2>&1; then
	echo "ok - meson install into a DESTDIR"
else
	echo "not ok - meson install into a DESTDIR"
	sed 's/^/# /' "$work/install.log"
	exit 1
fi

tests/completion/check_installed.sh "$dest" "$prefix" || failed=1
tests/lib/check_installed.sh "$dest" "$prefix" || failed=1

# The README's first pipeline, with the installed program.
name="installed ctxpack pack examples/webapp | docker build -f Dockerfile - (classic builder, stand-in engine): the engine gets the archive"
libdir=$(dirname "$(find "$dest$prefix" -name 'libctxpack.so.*' -type f | head -n 1)")
if ! command -v docker >/dev/null; then
	echo "ok - $name # SKIP docker CLI not installed"
else
	sock=$work/engine.sock
	python3 tests/oracle/fakeengine.py "$sock" "$work/out" >"$work/engine.log" 2>&1 &
	engine=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	if LD_LIBRARY_PATH=$libdir "$dest$prefix/bin/ctxpack" pack --builder=classic examples/webapp \
		| DOCKER_BUILDKIT=0 DOCKER_HOST=unix://$sock docker build -f Dockerfile - >"$work/build.log" 2>&1 &&
	   LD_LIBRARY_PATH=$libdir "$dest$prefix/bin/ctxpack" pack --builder=classic examples/webapp >"$work/want.tar" &&
	   cmp -s "$work/want.tar" "$work/out/context-1.tar"; then
		echo "ok - $name"
	else
		echo "not ok - $name"
		sed 's/^/# /' "$work/build.log" "$work/engine.log"
		failed=1
	fi
fi
exit $failed

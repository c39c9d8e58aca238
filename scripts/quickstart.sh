#!/usr/bin/env bash
# Quick start: install what is missing, build ctxpack, and show what the
# example app's .dockerignore sends and why.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

ex=examples/webapp
echo "== every path of $ex and the rule that decides it (buildkit semantics)"
(cd "$ex" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) |
	build/src/cli/ctxpack check-ignore -C "$ex" --stdin -v -n || true
echo
echo "== the same tree under the classic builder (DOCKER_BUILDKIT=0)"
(cd "$ex" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) |
	build/src/cli/ctxpack check-ignore -C "$ex" --builder=classic --stdin -v -n || true

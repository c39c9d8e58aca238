#!/usr/bin/env bash
# Quick start: install what is missing, build ctxpack, pack the example
# app's build context and show what its .dockerignore sends and why.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

ex=examples/webapp
echo "== ctxpack pack $ex | tar -tv   (the context docker build would receive)"
build/src/cli/ctxpack pack "$ex" -o build/webapp-context.tar
tar -tvf build/webapp-context.tar
echo "   -> build/webapp-context.tar; use it as: docker build - < build/webapp-context.tar"
echo
echo "== every path of $ex and the rule that decides it (buildkit semantics)"
(cd "$ex" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) |
	build/src/cli/ctxpack check-ignore -C "$ex" --stdin -v -n || true
echo
echo "== the same tree under the classic builder (DOCKER_BUILDKIT=0)"
(cd "$ex" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) |
	build/src/cli/ctxpack check-ignore -C "$ex" --builder=classic --stdin -v -n || true
echo
echo "== what the .dockerignore saves (ctxpack stats), and an HTML report"
build/src/cli/ctxpack stats "$ex" --html build/webapp-stats.html
echo "   -> build/webapp-stats.html (open it in a browser)"
echo
echo "== what ctxpack lint finds (exit 1: warnings, 3: errors)"
build/src/cli/ctxpack lint "$ex" || true
echo
echo "== the context's digest (the same for the directory and the tar made of it)"
build/src/cli/ctxpack digest "$ex"
build/src/cli/ctxpack digest build/webapp-context.tar

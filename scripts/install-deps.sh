#!/usr/bin/env bash
# Installs what building and testing ctxpack needs on Debian, if missing.
# Runs apt-get as root, or through sudo.
set -euo pipefail

pkgs=(build-essential meson ninja-build pkg-config python3
      libarchive-dev libzstd-dev libxxhash-dev libcmocka-dev)
# src/engine.c speaks TLS to a remote engine with OpenSSL; the tests make
# their certificates with openssl(1)
pkgs+=(libssl-dev openssl)
# tests/cli/test_html.py renders the `stats --html` page in headless Chromium
pkgs+=(chromium)
# scripts/test.sh runs the unit tests under valgrind; the hostile-tree tests
# drop privileges with setpriv (util-linux); the fault tests steer signals with strace
pkgs+=(valgrind util-linux strace)
# tests/fault tells a cut zstd stream from a whole one with zstd(1)
pkgs+=(zstd)
# the man page is read with man(1); the completions are tried in bash, zsh
# and fish; the integration tests drive git hooks
pkgs+=(man-db bash-completion zsh fish git)
# scripts/check_format.sh holds the files of .clang-format-files to .clang-format
pkgs+=(clang-format)
# tests/cli/test_lint.py validates `lint --format=sarif` against the SARIF
# 2.1.0 schema (tests/cli/sarif-schema-2.1.0.json)
pkgs+=(python3-jsonschema)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "installing: ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

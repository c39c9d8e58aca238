#!/usr/bin/env bash
# check_format.sh: the files listed in .clang-format-files (those already
# clean under .clang-format) must stay clean: `clang-format --dry-run
# --Werror` on each.  A listed file that drifts fails the check; run
# `clang-format -i FILE` and commit.
#
#   scripts/check_format.sh [BUILDDIR]   (BUILDDIR is ignored: scripted
#                                         checks in scripts/test.sh get one)
#
# One line per file, "ok - FILE", "not ok - FILE" (with clang-format's
# complaints as "# " lines); exit status 1 if any failed.  Without
# clang-format (scripts/install-deps.sh installs it) the check fails:
# skipping it would let drift through.
set -uo pipefail
cd "$(dirname "$0")/.."
list=.clang-format-files

if ! command -v clang-format >/dev/null; then
	echo "not ok - clang-format is not installed (scripts/install-deps.sh)"
	exit 1
fi
echo "# $(clang-format --version)"
failed=0
while read -r f; do
	case $f in '' | '#'*) continue ;; esac
	if [ ! -f "$f" ]; then
		echo "not ok - $f: listed in $list, missing"
		failed=1
	elif out=$(clang-format --dry-run --Werror "$f" 2>&1); then
		echo "ok - $f formatted"
	else
		echo "not ok - $f: not as .clang-format wants (clang-format -i $f)"
		printf '%s\n' "$out" | head -20 | sed 's/^/# /'
		failed=1
	fi
done <"$list"
exit $failed

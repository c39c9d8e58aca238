#!/usr/bin/env bash
# Runs the whole test suite: a build with warnings as errors, every test,
# then the unit and vector tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer.  Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh || exit 1

status=0
run_suite() { # builddir meson-setup-args... -- meson-test-args...
	local dir=$1; shift
	local setup=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do setup+=("$1"); shift; done
	shift
	if [ ! -d "$dir" ]; then
		meson setup "$dir" "${setup[@]}" >/dev/null || return 1
	fi
	ninja -C "$dir" >/dev/null || { ninja -C "$dir"; return 1; }
	meson test -C "$dir" --print-errorlogs "$@"
}

run_suite build-test -Dwerror=true -- || status=1
run_suite build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
	-Dbuildtype=debug -- --suite unit --suite vectors --suite cli --suite oracle --suite fuzz || status=1

python3 - build-test build-asan <<'PY'
import json, sys, os
passed = failed = skipped = 0
for d in sys.argv[1:]:
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
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
exit $status

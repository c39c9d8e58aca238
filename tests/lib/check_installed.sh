#!/bin/bash
# check_installed.sh: libctxpack as installed by `meson install --destdir`.
#
#   tests/lib/check_installed.sh DESTDIR [PREFIX]    (PREFIX: /usr/local)
#
# Checks, in the tree DESTDIR$PREFIX: the public header, the shared library
# with its SONAME symlinks (libctxpack.so -> libctxpack.so.N -> the file)
# and the SONAME recorded in it, ctxpack.pc; then builds
# examples/libctxpack/explain_pack.c with the flags pkg-config gives for
# that tree (prefix redefined into DESTDIR, so nothing outside it is used),
# once with cc and once with the example's Makefile, runs it against the
# installed library (LD_LIBRARY_PATH) on examples/webapp, and compares its
# archive with the installed bin/ctxpack's `pack` output byte for byte.
# One line per check: "ok - ..." or "not ok - ..."; exits 1 if any failed
# (2 for a usage error).  Needs a C compiler, pkg-config and make (a
# missing one fails its check).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 DESTDIR [PREFIX]" >&2
	exit 2
fi
destdir=$(cd "$1" && pwd)
prefix=${2:-/usr/local}
root=$destdir$prefix
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ctxpack-installed-XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	failed=1
}
# check NAME COMMAND...: ok when the command succeeds (its output is kept
# in $work/last.log and shown on failure).
check() {
	local name=$1
	shift
	if "$@" >"$work/last.log" 2>&1; then
		ok "$name"
	else
		not_ok "$name"
		sed 's/^/#   /' "$work/last.log" | head -20 || true
	fi
}

# The header.
check "header installed: $prefix/include/ctxpack/ctxpack.h" \
	test -f "$root/include/ctxpack/ctxpack.h"

# The library: lib/ or a multiarch lib/<triplet>/.
lib=$(find "$root" -path "$root/lib*" -name 'libctxpack.so.*.*.*' -type f 2>/dev/null | head -n1 || true)
if [ -n "$lib" ]; then
	ok "shared library installed: ${lib#"$destdir"}"
else
	not_ok "shared library installed under $prefix/lib*"
fi
libdir=$(dirname "${lib:-$root/lib/none}")
soname=""
if [ -n "$lib" ]; then
	soname=$(objdump -p "$lib" 2>/dev/null | awk '$1 == "SONAME" { print $2 }' || true)
fi
if [ -n "$soname" ] && [ "$soname" != "$(basename "$lib")" ]; then
	ok "SONAME $soname"
else
	not_ok "a SONAME in the library (got '${soname}')"
fi
check "symlink ${soname:-the SONAME} -> ${lib:+$(basename "$lib")}" \
	test "$(readlink -f "$libdir/${soname:-none}")" = "$(readlink -f "${lib:-/nonexistent}")"
check "symlink libctxpack.so -> ${soname:-the SONAME}" \
	test "$(readlink -f "$libdir/libctxpack.so")" = "$(readlink -f "${lib:-/nonexistent}")"

# ctxpack.pc, in the library directory's pkgconfig (or share/pkgconfig).
pc=$(find "$root" -name ctxpack.pc -path '*/pkgconfig/*' 2>/dev/null | head -n1 || true)
if [ -n "$pc" ]; then
	ok "ctxpack.pc installed: ${pc#"$destdir"}"
else
	not_ok "ctxpack.pc installed"
fi
pcdir=$(dirname "${pc:-$work/none/x}")

# pkg-config on that tree: its directory searched first (the system's
# still hold what Requires.private names), prefix moved into DESTDIR so
# that -I and -L point there (--define-prefix only guesses the prefix
# from a lib/pkgconfig path, not lib/<triplet>/pkgconfig).
pcpath=$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pkgconf() {
	PKG_CONFIG_PATH=$pcpath pkg-config --define-variable=prefix="$root" "$@"
}
# shellcheck disable=SC2317 # called through check
requires_private() {
	local r
	r=$(pkgconf --print-requires-private ctxpack) &&
		grep -q libarchive <<<"$r" && grep -q libzstd <<<"$r" && grep -q libxxhash <<<"$r" &&
		grep -q openssl <<<"$r"
}
cflags=""
libs=""
if command -v pkg-config >/dev/null && [ -n "$pc" ]; then
	if cflags=$(pkgconf --cflags ctxpack) && libs=$(pkgconf --libs ctxpack); then
		ok "pkg-config --cflags --libs ctxpack: $cflags $libs"
	else
		not_ok "pkg-config --cflags --libs ctxpack"
	fi
	check "pkg-config: version $(pkgconf --modversion ctxpack 2>/dev/null || echo '?')" \
		pkgconf --exists ctxpack
	check "pkg-config: -I points into DESTDIR" grep -q -- "-I$root/include" <<<"$cflags"
	check "pkg-config: -L points into DESTDIR" grep -q -- "-L$libdir" <<<"$libs"
	check "pkg-config: Requires.private libarchive libzstd libxxhash openssl" requires_private
else
	not_ok "pkg-config available and ctxpack.pc found"
fi

# The example, built from the installed header and library only.
example=$src/examples/libctxpack
cc=${CC:-cc}
# shellcheck disable=SC2086 # the flags are words
check "explain_pack.c builds with pkg-config's flags" \
	"$cc" -Wall -Wextra -Werror -o "$work/explain_pack" "$example/explain_pack.c" $cflags $libs
mkdir -p "$work/make"
cp "$example/explain_pack.c" "$example/Makefile" "$work/make/"
check "explain_pack builds with its Makefile" \
	make -C "$work/make" PKG_CONFIG="env PKG_CONFIG_PATH=$pcpath pkg-config --define-variable=prefix=$root"

# It runs against the installed library and packs what the installed
# program packs.
webapp=$src/examples/webapp
ctxpack=$root/bin/ctxpack
check "bin/ctxpack installed" test -x "$ctxpack"
unset SOURCE_DATE_EPOCH
for builder in buildkit classic; do
	for how in cc Makefile; do
		exe=$work/explain_pack
		[ "$how" = cc ] || exe=$work/make/explain_pack
		name="$builder: explain_pack (built with $how) packs what bin/ctxpack packs"
		if [ -x "$exe" ] && [ -x "$ctxpack" ] &&
			LD_LIBRARY_PATH=$libdir "$exe" -b "$builder" "$webapp" >"$work/lib.tar" 2>"$work/lib.err" &&
			LD_LIBRARY_PATH=$libdir "$ctxpack" pack --builder="$builder" "$webapp" >"$work/cli.tar" 2>"$work/cli.err" &&
			[ -s "$work/cli.tar" ] && cmp -s "$work/lib.tar" "$work/cli.tar"; then
			ok "$name"
		else
			not_ok "$name"
			cat "$work/lib.err" "$work/cli.err" 2>/dev/null | sed 's/^/#   /' | head -10 || true
		fi
	done
done
# And it really used the installed library, not one elsewhere.
if [ -x "$work/explain_pack" ] && [ -n "$lib" ]; then
	used=$(LD_LIBRARY_PATH=$libdir ldd "$work/explain_pack" | awk '/libctxpack/ { print $3 }')
	check "explain_pack loads the installed $soname" \
		test "$(readlink -f "$used")" = "$(readlink -f "$lib")"
else
	not_ok "explain_pack loads the installed library"
fi

exit $failed

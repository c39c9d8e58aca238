#!/bin/bash
# check_installed.sh: checks the man page and shell completions of a tree
# made by `meson install --destdir DESTDIR` (prefix PREFIX): each file is
# where man, bash-completion, zsh and fish look for it, and works from
# there.  One line per check, `ok - ...` or `not ok - ...`; exit status 1
# if any check failed (2: usage).  A missing man, zsh or fish is reported
# as `ok - ... # SKIP ...`.
#
# usage: check_installed.sh DESTDIR PREFIX
#   e.g. meson install -C build --destdir /tmp/dest && check_installed.sh /tmp/dest /usr/local
set -euo pipefail

if (($# != 2)); then
	echo "usage: $0 DESTDIR PREFIX" >&2
	exit 2
fi
root=$1$2
failed=0

ok() { echo "ok - $1"; }
not_ok() {
	echo "not ok - $1"
	failed=1
}
skip() { echo "ok - $1 # SKIP $2"; }
# check NAME COMMAND...: ok when COMMAND succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

man1=$root/share/man/man1/ctxpack.1
bash_file=$root/share/bash-completion/completions/ctxpack
zsh_file=$root/share/zsh/site-functions/_ctxpack
fish_file=$root/share/fish/vendor_completions.d/ctxpack.fish

check "man page installed as share/man/man1/ctxpack.1" test -s "$man1"
if ! command -v man >/dev/null; then
	skip "man ctxpack shows the NAME section" "man not installed"
elif out=$(MANPATH=$root/share/man MANWIDTH=80 man -P cat ctxpack 2>&1) &&
	grep -q '^NAME' <<<"$out" && grep -q 'ctxpack - ' <<<"$out"; then
	ok "man ctxpack (MANPATH=$root/share/man) shows the NAME section"
else
	not_ok "man ctxpack (MANPATH=$root/share/man) shows the NAME section"
	sed 's/^/# /' <<<"${out:-}" | head -5 || true
fi

check "bash completion installed as share/bash-completion/completions/ctxpack" test -s "$bash_file"
# bash-completion loads completions/<command> on first use: source it as
# that does and complete `ctxpack pa`.
if reply=$(bash --norc --noprofile -c '
	source "$1" || exit 1
	COMP_WORDS=(ctxpack pa) COMP_CWORD=1 COMPREPLY=()
	_ctxpack
	echo "${COMPREPLY[*]}"' bash "$bash_file" 2>&1) && [[ $reply == pack ]]; then
	ok "bash: sourced, ctxpack pa<TAB> completes to pack"
else
	not_ok "bash: sourced, ctxpack pa<TAB> completes to pack (got '${reply:-}')"
fi

# And found by bash-completion itself: it searches
# $XDG_DATA_DIRS/bash-completion/completions for a command's file.
bc=/usr/share/bash-completion/bash_completion
if [[ ! -r $bc ]]; then
	skip "bash-completion loads the file from $root/share" "bash-completion not installed"
elif reply=$(XDG_DATA_DIRS=$root/share BASH_COMPLETION_USER_DIR=/nonexistent HOME=/nonexistent \
	bash --norc --noprofile -c '
	source "$1" || exit 1
	__load_completion ctxpack || exit 1
	[[ $(complete -p ctxpack) == *"-F _ctxpack"* ]] || exit 1
	COMP_WORDS=(ctxpack pa) COMP_CWORD=1 COMPREPLY=()
	_ctxpack
	echo "${COMPREPLY[*]}"' bash "$bc" 2>&1) && [[ $reply == pack ]]; then
	ok "bash-completion loads the file from $root/share and completes ctxpack pa"
else
	not_ok "bash-completion loads the file from $root/share and completes ctxpack pa (got '${reply:-}')"
fi

check "zsh completion installed as share/zsh/site-functions/_ctxpack" test -s "$zsh_file"
if ! command -v zsh >/dev/null; then
	skip "zsh: the completion parses and autoloads from the directory" "zsh not installed"
elif zsh -f -n "$zsh_file" &&
	zsh -f -c 'fpath=("$1" $fpath); autoload -Uz +X _ctxpack' zsh \
		"$(dirname "$zsh_file")" 2>/dev/null; then
	ok "zsh: the completion parses and autoloads from the directory"
else
	not_ok "zsh: the completion parses and autoloads from the directory"
fi

check "fish completion installed as share/fish/vendor_completions.d/ctxpack.fish" test -s "$fish_file"
if ! command -v fish >/dev/null; then
	skip "fish: the completion parses and completes ctxpack pa" "fish not installed"
elif fish --no-config --no-execute "$fish_file" &&
	[[ $(fish --no-config -c 'source $argv[1]; complete -C "ctxpack pa"' "$fish_file" | cut -f1) == pack ]]; then
	ok "fish: the completion parses and completes ctxpack pa"
else
	not_ok "fish: the completion parses and completes ctxpack pa"
fi

exit $failed

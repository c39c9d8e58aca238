# zsh_complete.zsh: real completions in an interactive zsh (zsh/zpty), for
# test_completion.py.  For each INPUT, types INPUT and TAB at the prompt
# and prints the command line afterwards, one line per INPUT.
#
# usage: zsh -f zsh_complete.zsh FPATH_DIR WORK_DIR INPUT...
# Exit status 77 when zsh/zpty is missing; 1 when a line never came back.
zmodload zsh/zpty 2>/dev/null || exit 77
fdir=$1 work=$2
shift 2
tmp=$(mktemp -d) || exit 1
trap 'zpty -d z 2>/dev/null; rm -rf -- $tmp' EXIT

# Waits up to 10 s for file $1, reading the terminal meanwhile so that
# zsh never blocks writing to it; $2, if given, is typed again every
# half second (keys typed before zle starts are thrown away).
await() {
	local t junk
	for t in {1..100}; do
		[[ -e $1 ]] && return 0
		(( t % 5 == 1 )) && [[ -n $2 ]] && zpty -w -n z "$2"
		sleep 0.1
		while zpty -r -t z junk 2>/dev/null; do :; done
	done
	return 1
}

zpty z "env HOME=${(q)tmp} TERM=xterm zsh -f -i"
zpty -w z "bindkey -e; cd ${(q)work} && fpath=(${(q)fdir} \$fpath)"
zpty -w z "autoload -Uz compinit && compinit -u -d ${(q)tmp}/zcompdump"
# ^X^P writes the command line to buf.N, ^X^R says zle is reading.
zpty -w z "n=0; _dump() { print -r -- \"\$BUFFER\" > ${(q)tmp}/buf.\$((++n)); }; zle -N _dump; bindkey '^X^P' _dump"
zpty -w z "_ready() { : > ${(q)tmp}/ready }; zle -N _ready; bindkey '^X^R' _ready"
await $tmp/ready $'\C-x\C-r' || { print -u2 "zsh did not start"; exit 1 }
# Once more, now that zle reads: a retry's keys may still be pending.
rm -f $tmp/ready
zpty -w -n z $'\C-u\C-x\C-r'
await $tmp/ready || { print -u2 "zsh did not start"; exit 1 }
for i in {1..$#}; do
	zpty -w -n z "$argv[i]"$'\t\C-x\C-p\C-u'
	await $tmp/buf.$i || { print -u2 "no answer for '$argv[i]'"; exit 1 }
	print -r -- "$(<$tmp/buf.$i)"
done

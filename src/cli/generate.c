/* generate.c: ctxpack.1 and the bash, zsh and fish completions, written
 * from the option tables that also drive getopt and --help (opts.h), so
 * that the page and the completions cannot miss, misspell or outlive an
 * option.  Run at build time as `ctxpack --generate=KIND` (ripgrep's way;
 * hidden: it is not in --help) by custom targets in src/cli/meson.build,
 * which install the results. */
#include <string.h>

#include "ctxpack/ctxpack.h"
#include "generate.h"

/* ---- shared ---- */

/* The -h/--help every command accepts besides its table (opts_parse). */
static const struct opt help_opt = { "help", 'h', OPT_ARG_NONE, NULL, "show this help and exit", NULL, 0 };

static const char *has_arg_word(int has_arg)
{
	return has_arg == OPT_ARG_REQUIRED ? "required" : has_arg == OPT_ARG_OPTIONAL ? "optional" : "none";
}

static const char *path_word(int path)
{
	return path == OPT_PATH_FILE ? "file" : path == OPT_PATH_DIR ? "dir" : "none";
}

/* Writes choices "a|b|c" with sep between the values. */
static void put_choices(FILE *f, const char *choices, const char *sep)
{
	for (const char *c = choices; *c; c++) {
		if (*c == '|')
			fputs(sep, f);
		else
			fputc(*c, f);
	}
}

/* The first line of a summary (some span two lines in --help). */
static void put_summary(FILE *f, const char *s, void (*put)(FILE *, const char *, size_t))
{
	char buf[512];
	size_t n = 0;

	for (; *s && n + 1 < sizeof(buf); s++)
		buf[n++] = *s == '\n' ? ' ' : *s;
	buf[n] = '\0';
	put(f, buf, n);
}

/* ---- options: the tables as tab-separated lines, for the tests ---- */

static void put_raw(FILE *f, const char *s, size_t n)
{
	fwrite(s, 1, n, f);
}

static void gen_options_table(FILE *f, const char *cmd, const struct opt *opts, bool help)
{
	for (const struct opt *o = opts; o && o->lng; o++) {
		fprintf(f, "opt\t%s\t", cmd);
		if (o->id < 256)
			fputc(o->id, f);
		fprintf(f, "\t%s\t%s\t%s\t%s\t%s\n", o->lng, has_arg_word(o->has_arg),
			o->metavar ? o->metavar : "", o->choices ? o->choices : "", path_word(o->path));
	}
	if (help)
		fprintf(f, "opt\t%s\th\thelp\tnone\t\t\tnone\n", cmd);
}

static void gen_options(FILE *f, const struct cli_tables *t)
{
	fprintf(f, "version\t%s\n", ctxpack_version());
	gen_options_table(f, "", t->global, false);
	for (size_t i = 0; i < t->ncmds; i++) {
		const struct command *c = t->cmds[i];
		fprintf(f, "cmd\t%s\t%s\t", c->name, path_word(c->operands));
		put_summary(f, c->summary, put_raw);
		fputc('\n', f);
		gen_options_table(f, c->name, c->opts, true);
	}
}

/* ---- man page ---- */

/* Text into roff: backslashes as \e, every hyphen as \- (a minus: options
 * then copy, paste and search as typed), bytes beyond ASCII as \[uXXXX]
 * (groff reads bytes, not UTF-8), and a line that would begin with '.' or
 * '\'' (a request) guarded by \&.  *bol: at the start of an input line. */
static void roff_put(FILE *f, const char *s, size_t n, bool *bol)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (*bol && (c == '.' || c == '\''))
			fputs("\\&", f);
		*bol = c == '\n';
		if (c == '\\') {
			fputs("\\e", f);
		} else if (c == '-') {
			fputs("\\-", f);
		} else if (c >= 0x80) {
			/* UTF-8 to a code point; a malformed byte is shown as U+FFFD. */
			unsigned cp = 0xfffd, len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
			if (len > 1 && i + len <= n) {
				cp = c & (0x7f >> len);
				for (unsigned k = 1; k < len; k++)
					cp = cp << 6 | ((unsigned char)s[i + k] & 0x3f);
				i += len - 1;
			}
			fprintf(f, "\\[u%04X]", cp);
		} else {
			fputc(c, f);
		}
	}
}

/* Inline text (not at the start of a line). */
static void roff_inline(FILE *f, const char *s, size_t n)
{
	bool bol = false;

	roff_put(f, s, n, &bol);
}

static void roff_str(FILE *f, const char *s)
{
	roff_inline(f, s, strlen(s));
}

/* A --help text into roff: a blank line starts a paragraph (.PP); lines
 * indented in the text (examples, tables) are kept as laid out (.nf), the
 * others filled. */
static void man_text(FILE *f, const char *s)
{
	bool nf = false, bol = true;

	while (*s) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == 0) {
			fputs(nf ? ".fi\n.PP\n" : ".PP\n", f);
			nf = false;
		} else {
			if (*s == ' ' && !nf)
				fputs(".nf\n", f);
			else if (*s != ' ' && nf)
				fputs(".fi\n", f);
			nf = *s == ' ';
			roff_put(f, s, n, &bol);
			fputc('\n', f);
		}
		bol = true;
		s += n + (e != NULL);
	}
	if (nf)
		fputs(".fi\n", f);
}

/* ".TP" and the option as it is typed: -f, --file=DOCKERFILE, or with
 * choices --builder=buildkit|classic. */
static void man_opt(FILE *f, const struct opt *o)
{
	fputs(".TP\n", f);
	if (o->id < 256)
		fprintf(f, "\\fB\\-%c\\fR, ", o->id);
	fputs("\\fB\\-\\-", f);
	roff_str(f, o->lng);
	fputs("\\fR", f);
	if (o->has_arg) {
		fputs(o->has_arg == OPT_ARG_OPTIONAL ? "[=" : "=", f);
		if (o->choices) {
			for (const char *c = o->choices; *c;) {
				size_t n = strcspn(c, "|");
				fputs("\\fB", f);
				roff_inline(f, c, n);
				fputs("\\fR", f);
				c += n;
				if (*c == '|') {
					fputc('|', f);
					c++;
				}
			}
		} else {
			fputs("\\fI", f);
			roff_str(f, o->metavar);
			fputs("\\fR", f);
		}
		if (o->has_arg == OPT_ARG_OPTIONAL)
			fputc(']', f);
	}
	fputc('\n', f);
	man_text(f, o->help);
}

static void man_usage(FILE *f, const struct command *c)
{
	fputs(".B ctxpack ", f);
	roff_str(f, c->name);
	fputc('\n', f);
	man_text(f, c->usage);
}

static const char man_description[] =
	"ctxpack decides, packs and explains Docker build contexts exactly as\n"
	"Docker does.  docker build sends the whole context directory to the\n"
	"builder, filtered by .dockerignore; ctxpack reproduces that filter member\n"
	"for member, for BuildKit (--builder=buildkit, the default: what docker\n"
	"build and buildx send) and for the classic builder (--builder=classic:\n"
	"what the docker CLI sends with DOCKER_BUILDKIT=0, and docker-py).\n"
	"\n"
	"Where ctxpack cannot reproduce a pattern exactly (a Go \\p{...} class,\n"
	"\\Q...\\E) it refuses it with an error naming the line; it never matches\n"
	"approximately.\n"
	"\n"
	"The global options go before the command; each command takes its own\n"
	"options after its name, in any order with its operands.\n";

/* EXIT STATUS: what each status means, for every command (their --help
 * says the same, command by command). */
static const struct {
	const char *status, *text;
} man_exit[] = {
	{ "0", "Success.  check-ignore: at least one path would not be sent.  diff: the\n"
	       "contexts are identical.  lint: no finding of severity warning or above." },
	{ "1", "Failure: the context or source could not be read, or the output could\n"
	       "not be written (pack, ls, stats, digest, manifest; the message names the\n"
	       "path and the cause).  A negative answer: check-ignore: every path would\n"
	       "be sent; diff: the contexts differ; lint: warnings but no error." },
	{ "2", "Usage error: an unknown command or option, a bad option value, a\n"
	       "directory given to -C that cannot be entered, a malformed\n"
	       "SOURCE_DATE_EPOCH (pack), pack's stdout a terminal without --force.\n"
	       "check-ignore, lint and diff also exit 2 when they cannot do their work\n"
	       "(a malformed .dockerignore, an unreadable context or source)." },
	{ "3", "lint: at least one finding of severity error." },
	{ "4", "stats, pack: a budget (--max-size, --max-files, --min-reduction,\n"
	       "--fail-on-dead-rules) is broken; pack then writes nothing." },
};

static const struct {
	const char *name, *text;
} man_env[] = {
	{ "NO_COLOR", "When set and not empty, no colour with --color=auto (the default): the\n"
		      "stats report and pack --stats.  --color=always colours anyway\n"
		      "(https://no-color.org)." },
	{ "SOURCE_DATE_EPOCH", "pack: clamp every mtime in the archive to this many seconds since\n"
			       "the epoch, unless --mtime is given.  A value that is not a number of\n"
			       "seconds is a usage error (exit status 2)." },
	{ "XDG_CACHE_HOME", "The hash cache of digest, manifest, diff and stats --duplicates is\n"
			    "$XDG_CACHE_HOME/ctxpack/hashes when XDG_CACHE_HOME is an absolute path." },
	{ "HOME", "Otherwise the hash cache is $HOME/.cache/ctxpack/hashes; with neither,\n"
		  "no cache is kept." },
	{ "TMPDIR", "Where digest, manifest and diff keep a source read from stdin ('-')\n"
		    "while they read it (an unnamed file; default /tmp)." },
	{ "DOCKER_BUILDKIT", "Not read: the builder is chosen with --builder." },
};

static const struct {
	const char *what, *cmd;
} man_examples[] = {
	{ "Build with exactly the context BuildKit would receive:",
	  "ctxpack pack . | docker build -f Dockerfile -" },
	{ "The same for the classic builder:",
	  "ctxpack pack --builder=classic . | DOCKER_BUILDKIT=0 docker build -" },
	{ "A compressed context in a file:", "ctxpack pack -o context.tar.zst --compress=zstd ." },
	{ "In CI: fail (exit status 4) when the context grows too big or the rules\n"
	  "stop saving, and pack and report in one walk:",
	  "ctxpack stats --max-size 200M --min-reduction 50 .\n"
	  "ctxpack pack --stats=context-stats.json --max-size 200M . | docker build -" },
	{ "Why is a path sent, or not?  The deciding rule of each:",
	  "ctxpack check-ignore -v node_modules/left-pad/index.js src/index.js" },
	{ "Skip the build when the context did not change:",
	  "new=$(ctxpack digest .)\n"
	  "[ \"$new\" = \"$(cat .last-digest 2>/dev/null)\" ] ||\n"
	  "    { ctxpack pack . | docker build -t app - && echo \"$new\" > .last-digest; }" },
	{ "Why did the build cache miss?  Compare with the last context's manifest:",
	  "ctxpack pack --manifest last.manifest . | docker build -\n"
	  "ctxpack diff last.manifest ." },
	{ "Run in another directory, with a coloured report into a pager:",
	  "ctxpack -C ~/src/app stats --color=always | less -R" },
};

static void gen_man(FILE *f, const struct cli_tables *t)
{
	fputs(".\\\" ctxpack.1: generated by `ctxpack --generate=man` (src/cli/generate.c)\n"
	      ".\\\" from the option tables; edit those, not this file.\n",
	      f);
	fputs(".TH CTXPACK 1 \"\" \"ctxpack ", f);
	roff_str(f, ctxpack_version());
	fputs("\" \"User Commands\"\n", f);
	/* Ragged right, no hyphenation: option names and values stay whole. */
	fputs(".ad l\n.nh\n", f);

	fputs(".SH NAME\nctxpack \\- pack and explain Docker build contexts exactly as Docker does\n", f);

	fputs(".SH SYNOPSIS\n"
	      ".B ctxpack\n"
	      "[\\fB\\-C\\fR \\fIDIR\\fR]... [\\fB\\-\\-color\\fR[=\\fIWHEN\\fR]] \\fICOMMAND\\fR "
	      "[\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n"
	      ".br\n"
	      ".B ctxpack\n"
	      "\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR | \\fBhelp\\fR \\fICOMMAND\\fR\n",
	      f);
	for (size_t i = 0; i < t->ncmds; i++) {
		fputs(".br\n", f);
		man_usage(f, t->cmds[i]);
	}

	fputs(".SH DESCRIPTION\n", f);
	man_text(f, man_description);

	fputs(".SH COMMANDS\n", f);
	for (size_t i = 0; i < t->ncmds; i++) {
		const struct command *c = t->cmds[i];
		fputs(".SS \"ctxpack ", f);
		roff_str(f, c->name);
		fputs("\"\n", f);
		man_usage(f, c);
		fputs(".PP\n", f);
		man_text(f, c->summary);
		for (const struct opt *o = c->opts; o->lng; o++)
			man_opt(f, o);
		man_opt(f, &help_opt);
		if (c->details) {
			fputs(".PP\n", f);
			man_text(f, c->details);
		}
	}

	fputs(".SH GLOBAL OPTIONS\n", f);
	man_text(f, "These go before the command: ctxpack -C DIR --color=never stats.\n");
	for (const struct opt *o = t->global; o->lng; o++)
		man_opt(f, o);
	man_text(f, "\n--version prints the versions of ctxpack and of the libarchive, zstd\n"
		    "and xxHash libraries in use, one per line.  ctxpack help COMMAND is\n"
		    "ctxpack COMMAND --help.\n");

	fputs(".SH EXIT STATUS\n", f);
	for (size_t i = 0; i < sizeof(man_exit) / sizeof(man_exit[0]); i++) {
		fprintf(f, ".TP\n.B %s\n", man_exit[i].status);
		man_text(f, man_exit[i].text);
	}

	fputs(".SH ENVIRONMENT\n", f);
	for (size_t i = 0; i < sizeof(man_env) / sizeof(man_env[0]); i++) {
		fputs(".TP\n.B ", f);
		roff_str(f, man_env[i].name);
		fputc('\n', f);
		man_text(f, man_env[i].text);
	}

	fputs(".SH FILES\n.TP\n.I $XDG_CACHE_HOME/ctxpack/hashes\\fR, \\fI~/.cache/ctxpack/hashes\n", f);
	man_text(f, "The hash cache: each file's content hash under its device, inode, size,\n"
		    "mtime and ctime.  It can be removed at any time; --no-cache neither reads\n"
		    "nor writes it.\n");

	fputs(".SH EXAMPLES\n", f);
	for (size_t i = 0; i < sizeof(man_examples) / sizeof(man_examples[0]); i++) {
		fputs(".PP\n", f);
		man_text(f, man_examples[i].what);
		fputs(".PP\n.RS 4\n.nf\n", f);
		for (const char *s = man_examples[i].cmd; *s;) {
			size_t n = strcspn(s, "\n");
			bool bol = true;
			roff_put(f, s, n, &bol);
			fputc('\n', f);
			s += n + (s[n] == '\n');
		}
		fputs(".fi\n.RE\n", f);
	}

	fputs(".SH SEE ALSO\n"
	      ".BR docker\\-build (1),\n"
	      ".BR git\\-check\\-ignore (1),\n"
	      ".BR tar (1)\n",
	      f);
}

/* ---- bash ---- */

/* The option words offered after "-": --opt= for a required argument
 * (the cursor stays after '='), --opt and --opt= for an optional one. */
static void bash_opt_words(FILE *f, const struct opt *opts, bool help)
{
	const char *sep = "";

	for (const struct opt *o = opts; o && o->lng; o++) {
		if (o->id < 256) {
			fprintf(f, "%s-%c", sep, o->id);
			sep = " ";
		}
		fprintf(f, "%s--%s%s", sep, o->lng, o->has_arg == OPT_ARG_REQUIRED ? "=" : "");
		sep = " ";
		if (o->has_arg == OPT_ARG_OPTIONAL)
			fprintf(f, " --%s=", o->lng);
	}
	if (help)
		fprintf(f, "%s-h --help", sep);
}

/* One case of _ctxpack_arg per option that takes an argument. */
static void bash_arg_cases(FILE *f, const char *cmd, const struct opt *opts)
{
	for (const struct opt *o = opts; o && o->lng; o++) {
		if (!o->has_arg)
			continue;
		fputs("\t", f);
		if (o->id < 256)
			fprintf(f, "%s:-%c|", cmd, o->id);
		fprintf(f, "%s:--%s) arg_req=%s arg_what=", cmd, o->lng,
			o->has_arg == OPT_ARG_REQUIRED ? "1" : "");
		if (o->choices) {
			fputc('\'', f);
			put_choices(f, o->choices, " ");
			fputc('\'', f);
		} else if (o->path) {
			fputs(o->path == OPT_PATH_DIR ? "@dir" : "@file", f);
		}
		fputs(" ;;\n", f);
	}
}

static const char bash_head[] =
	"# bash completion for ctxpack                              -*- shell-script -*-\n"
	"# Generated by `ctxpack --generate=complete-bash` from ctxpack's option\n"
	"# tables (src/cli/generate.c); edit those, not this file.  Installed as\n"
	"# share/bash-completion/completions/ctxpack, where bash-completion finds it.\n"
	"\n"
	"# _ctxpack_paths -f|-d WORD PREFIX: file or directory names into COMPREPLY.\n"
	"_ctxpack_paths()\n"
	"{\n"
	"\tlocal IFS=$'\\n' i\n"
	"\tif [[ -z $3 ]] && declare -F _filedir >/dev/null; then\n"
	"\t\tlocal cur=$2\n"
	"\t\tif [[ $1 == -d ]]; then _filedir -d; else _filedir; fi\n"
	"\t\treturn\n"
	"\tfi\n"
	"\t# mapfile: names are neither split at blanks nor expanded as globs\n"
	"\tmapfile -t COMPREPLY < <(compgen \"$1\" -- \"$2\")\n"
	"\tif [[ -n $3 ]]; then\n"
	"\t\t# --opt=NAME is one word: the name is quoted for the shell here\n"
	"\t\tfor i in \"${!COMPREPLY[@]}\"; do\n"
	"\t\t\tprintf -v 'COMPREPLY[i]' '%s%q' \"$3\" \"${COMPREPLY[i]}\"\n"
	"\t\tdone\n"
	"\telse\n"
	"\t\tcompopt -o filenames 2>/dev/null\n"
	"\tfi\n"
	"}\n"
	"\n";

static const char bash_main[] =
	"_ctxpack()\n"
	"{\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= opt= val= pre= i\n"
	"\tlocal arg_req arg_what\n"
	"\t((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	"\tCOMPREPLY=()\n"
	"\n"
	"\t# The command: the first word after the global options and their\n"
	"\t# arguments (\"--directory = DIR\" when COMP_WORDBREAKS splits at '=';\n"
	"\t# \"-C DIR\" for an option that takes the next word).\n"
	"\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	"\t\tcase ${COMP_WORDS[i]} in\n"
	"\t\t-*)\n"
	"\t\t\tif [[ ${COMP_WORDS[i+1]} == = ]]; then\n"
	"\t\t\t\t((i += 2))\n"
	"\t\t\telif [[ ${COMP_WORDS[i]} != *=* ]]; then\n"
	"\t\t\t\t_ctxpack_arg '' \"${COMP_WORDS[i]}\"\n"
	"\t\t\t\t[[ -n $arg_req ]] && ((i++))\n"
	"\t\t\tfi ;;\n"
	"\t\t*) cmd=${COMP_WORDS[i]}; break ;;\n"
	"\t\tesac\n"
	"\tdone\n"
	"\n"
	"\t# An option's argument: --opt=VAL in one word, --opt = VAL when split\n"
	"\t# at '=', or the word after an option that requires one.\n"
	"\tif [[ $cur == --*=* ]]; then\n"
	"\t\topt=${cur%%=*} val=${cur#*=} pre=${cur%%=*}=\n"
	"\telif [[ $cur == = ]]; then\n"
	"\t\topt=$prev val=\n"
	"\telif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then\n"
	"\t\topt=${COMP_WORDS[COMP_CWORD-2]} val=$cur\n"
	"\telse\n"
	"\t\t_ctxpack_arg \"$cmd\" \"$prev\"\n"
	"\t\t[[ -n $arg_req ]] && opt=$prev val=$cur\n"
	"\tfi\n"
	"\tif [[ -n $opt ]]; then\n"
	"\t\t_ctxpack_arg \"$cmd\" \"$opt\"\n"
	"\t\tcase $arg_what in\n"
	"\t\t@file) _ctxpack_paths -f \"$val\" \"$pre\" ;;\n"
	"\t\t@dir) _ctxpack_paths -d \"$val\" \"$pre\" ;;\n"
	"\t\t*) COMPREPLY=($(compgen -P \"$pre\" -W \"$arg_what\" -- \"$val\")) ;;\n"
	"\t\tesac\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\n"
	"\tif [[ $cur == -* ]]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$(_ctxpack_opts \"$cmd\")\" -- \"$cur\"))\n"
	"\t\tif ((${#COMPREPLY[@]} == 1)) && [[ $COMPREPLY == *= ]]; then\n"
	"\t\t\tcompopt -o nospace 2>/dev/null\n"
	"\t\tfi\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tcase $cmd in\n"
	"\t'') COMPREPLY=($(compgen -W \"$(_ctxpack_commands) help\" -- \"$cur\")) ;;\n"
	"\thelp) COMPREPLY=($(compgen -W \"$(_ctxpack_commands)\" -- \"$cur\")) ;;\n";

static void gen_bash(FILE *f, const struct cli_tables *t)
{
	fputs(bash_head, f);

	fputs("_ctxpack_commands()\n{\n\techo '", f);
	for (size_t i = 0; i < t->ncmds; i++)
		fprintf(f, "%s%s", i ? " " : "", t->cmds[i]->name);
	fputs("'\n}\n\n", f);

	fputs("# _ctxpack_opts COMMAND: its option words ('': the global options).\n"
	      "_ctxpack_opts()\n{\n\tcase $1 in\n\t'') echo '",
	      f);
	bash_opt_words(f, t->global, false);
	fputs("' ;;\n", f);
	for (size_t i = 0; i < t->ncmds; i++) {
		fprintf(f, "\t%s) echo '", t->cmds[i]->name);
		bash_opt_words(f, t->cmds[i]->opts, true);
		fputs("' ;;\n", f);
	}
	fputs("\tesac\n}\n\n", f);

	fputs("# _ctxpack_arg COMMAND OPTION: sets arg_req (1: the option takes the\n"
	      "# next word) and arg_what (its argument: @file, @dir, or the values).\n"
	      "_ctxpack_arg()\n{\n\targ_req= arg_what=\n\tcase $1:$2 in\n",
	      f);
	bash_arg_cases(f, "", t->global);
	for (size_t i = 0; i < t->ncmds; i++)
		bash_arg_cases(f, t->cmds[i]->name, t->cmds[i]->opts);
	fputs("\tesac\n}\n\n", f);

	fputs(bash_main, f);
	for (size_t i = 0; i < t->ncmds; i++) {
		const struct command *c = t->cmds[i];
		if (c->operands)
			fprintf(f, "\t%s) _ctxpack_paths %s \"$cur\" '' ;;\n", c->name,
				c->operands == OPT_PATH_DIR ? "-d" : "-f");
	}
	fputs("\tesac\n\treturn 0\n}\n\ncomplete -F _ctxpack ctxpack\n", f);
}

/* ---- zsh ---- */

/* Text inside a single-quoted _arguments spec's [description]. */
static void zsh_desc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else if (*s == '[' || *s == ']' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

/* A message or a _describe item: colons escaped as well. */
static void zsh_item(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ':')
			fputs("\\:", f);
		else if (s[i] == '\'')
			fputs("'\\''", f);
		else
			fputc(s[i], f);
	}
}

static void zsh_opt(FILE *f, const struct opt *o)
{
	const char *lsuf = o->has_arg == OPT_ARG_REQUIRED ? "=" : o->has_arg == OPT_ARG_OPTIONAL ? "=-" : "";

	/* Repeated -C accumulate, as in git; other options once. */
	if (o->id == 'C')
		fputs("\t\t'*'", f);
	else if (o->id < 256)
		fprintf(f, "\t\t'(-%c --%s)'", o->id, o->lng);
	else
		fprintf(f, "\t\t'(--%s)'", o->lng);
	if (o->id < 256)
		fprintf(f, "{-%c%s,--%s%s}'", o->id, o->has_arg == OPT_ARG_REQUIRED ? "+" : "", o->lng,
			lsuf);
	else
		fprintf(f, "'--%s%s", o->lng, lsuf);
	fputc('[', f);
	zsh_desc(f, o->help);
	fputc(']', f);
	if (o->has_arg) {
		fputs(o->has_arg == OPT_ARG_OPTIONAL ? "::" : ":", f);
		zsh_item(f, o->metavar, strlen(o->metavar));
		fputc(':', f);
		if (o->choices) {
			fputc('(', f);
			put_choices(f, o->choices, " ");
			fputc(')', f);
		} else if (o->path == OPT_PATH_DIR) {
			fputs("_files -/", f);
		} else if (o->path == OPT_PATH_FILE) {
			fputs("_files", f);
		} else {
			fputc(' ', f);
		}
	}
	fputs("' \\\n", f);
}

static const char zsh_tail[] =
	"\t\t'1: :_ctxpack_commands' \\\n"
	"\t\t'*:: :->args' && ret=0\n"
	"\n"
	"\t[[ $state == args ]] || return ret\n"
	"\tcurcontext=${curcontext%:*:*}:ctxpack-$words[1]:\n"
	"\tcase $words[1] in\n"
	"\thelp) _arguments '1: :_ctxpack_commands' && ret=0 ;;\n";

static void gen_zsh(FILE *f, const struct cli_tables *t)
{
	fputs("#compdef ctxpack\n"
	      "# zsh completion for ctxpack.  Generated by `ctxpack --generate=complete-zsh`\n"
	      "# from ctxpack's option tables (src/cli/generate.c); edit those, not this\n"
	      "# file.  Installed as share/zsh/site-functions/_ctxpack (in $fpath).\n"
	      "\n"
	      "_ctxpack_commands()\n{\n\tlocal -a commands=(\n",
	      f);
	for (size_t i = 0; i < t->ncmds; i++) {
		fprintf(f, "\t\t'%s:", t->cmds[i]->name);
		put_summary(f, t->cmds[i]->summary, zsh_item);
		fputs("'\n", f);
	}
	fputs("\t)\n\t_describe -t commands 'ctxpack command' commands\n}\n\n"
	      "_ctxpack()\n{\n"
	      "\tlocal curcontext=$curcontext state state_descr line ret=1\n"
	      "\ttypeset -A opt_args\n\n"
	      "\t_arguments -C -S \\\n",
	      f);
	for (const struct opt *o = t->global; o->lng; o++) {
		if (o->id == 'h' || o->id == 'V') {
			/* --help and --version stand alone. */
			fprintf(f, "\t\t'(- *)'{-%c,--%s}'[", o->id, o->lng);
			zsh_desc(f, o->help);
			fputs("]' \\\n", f);
			continue;
		}
		zsh_opt(f, o);
	}
	fputs(zsh_tail, f);
	for (size_t i = 0; i < t->ncmds; i++) {
		const struct command *c = t->cmds[i];
		fprintf(f, "\t%s)\n\t\t_arguments -s -S \\\n", c->name);
		for (const struct opt *o = c->opts; o->lng; o++)
			zsh_opt(f, o);
		zsh_opt(f, &help_opt);
		fprintf(f, "\t\t\t'*:%s' && ret=0\n\t\t;;\n",
			c->operands == OPT_PATH_DIR ? "directory:_files -/"
			: c->operands == OPT_PATH_FILE ? "file:_files" : "argument: ");
	}
	fputs("\tesac\n\treturn ret\n}\n\n"
	      "# Autoloaded from $fpath, the file is the function's body; sourced, it\n"
	      "# registers the function.\n"
	      "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
	      "\t_ctxpack \"$@\"\n"
	      "else\n"
	      "\tcompdef _ctxpack ctxpack\n"
	      "fi\n",
	      f);
}

/* ---- fish ---- */

/* A single-quoted fish string's content. */
static void fish_str(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'' || s[i] == '\\')
			fputc('\\', f);
		fputc(s[i] == '\n' ? ' ' : s[i], f);
	}
}

static void fish_opt(FILE *f, const char *cond, const struct opt *o)
{
	fprintf(f, "complete -c ctxpack -n %s", cond);
	if (o->id < 256)
		fprintf(f, " -s %c", o->id);
	fprintf(f, " -l %s", o->lng);
	if (o->has_arg == OPT_ARG_REQUIRED)
		fputs(" -r", f);
	if (o->has_arg && o->choices) {
		fputs(" -f -a '", f);
		put_choices(f, o->choices, " ");
		fputc('\'', f);
	} else if (o->has_arg && o->path == OPT_PATH_DIR) {
		fputs(" -f -a '(__fish_complete_directories)'", f);
	} else if (o->has_arg && o->path == OPT_PATH_FILE) {
		fputs(" -F", f);
	} else if (o->has_arg) {
		fputs(" -f", f);
	}
	fputs(" -d '", f);
	fish_str(f, o->help, strlen(o->help));
	fputs("'\n", f);
}

static const char fish_head[] =
	"# fish completion for ctxpack.  Generated by `ctxpack --generate=complete-fish`\n"
	"# from ctxpack's option tables (src/cli/generate.c); edit those, not this\n"
	"# file.  Installed as share/fish/vendor_completions.d/ctxpack.fish.\n"
	"\n"
	"# The command: the first word after the global options (-C takes the\n"
	"# next word).\n"
	"function __ctxpack_command\n"
	"    set -l words (commandline -opc)\n"
	"    set -e words[1]\n"
	"    while set -q words[1]\n"
	"        switch $words[1]\n"
	"            case -C --directory\n"
	"                set -e words[1]\n"
	"            case '-*'\n"
	"            case '*'\n"
	"                echo $words[1]\n"
	"                return 0\n"
	"        end\n"
	"        set -e words[1]\n"
	"    end\n"
	"    return 1\n"
	"end\n"
	"\n"
	"function __ctxpack_needs_command\n"
	"    not __ctxpack_command >/dev/null\n"
	"end\n"
	"\n"
	"function __ctxpack_using_command\n"
	"    set -l cmd (__ctxpack_command)\n"
	"    and test \"$cmd\" = \"$argv[1]\"\n"
	"end\n"
	"\n"
	"# An operand of the command, not an option (--color=... is not a path).\n"
	"function __ctxpack_operand_of\n"
	"    __ctxpack_using_command $argv[1]\n"
	"    and not string match -q -- '-*' (commandline -ct)\n"
	"end\n"
	"\n"
	"# No file names unless an option or a command's operands take them.\n"
	"complete -c ctxpack -f\n";

static void gen_fish(FILE *f, const struct cli_tables *t)
{
	char cond[128];

	fputs(fish_head, f);
	fputs("\n# Global options and the commands.\n", f);
	for (const struct opt *o = t->global; o->lng; o++)
		fish_opt(f, "__ctxpack_needs_command", o);
	for (size_t i = 0; i < t->ncmds; i++) {
		fprintf(f, "complete -c ctxpack -n __ctxpack_needs_command -a %s -d '", t->cmds[i]->name);
		put_summary(f, t->cmds[i]->summary, fish_str);
		fputs("'\n", f);
	}
	fputs("complete -c ctxpack -n __ctxpack_needs_command -a help -d 'Show the help of a command'\n", f);
	fputs("complete -c ctxpack -n '__ctxpack_using_command help' -a '", f);
	for (size_t i = 0; i < t->ncmds; i++)
		fprintf(f, "%s%s", i ? " " : "", t->cmds[i]->name);
	fputs("'\n", f);
	for (size_t i = 0; i < t->ncmds; i++) {
		const struct command *c = t->cmds[i];
		snprintf(cond, sizeof(cond), "'__ctxpack_using_command %s'", c->name);
		fprintf(f, "\n# ctxpack %s\n", c->name);
		for (const struct opt *o = c->opts; o->lng; o++)
			fish_opt(f, cond, o);
		fish_opt(f, cond, &help_opt);
		if (c->operands == OPT_PATH_DIR)
			fprintf(f, "complete -c ctxpack -n '__ctxpack_operand_of %s' -a '(__fish_complete_directories)'\n",
				c->name);
		else if (c->operands == OPT_PATH_FILE)
			fprintf(f, "complete -c ctxpack -n '__ctxpack_operand_of %s' -F\n", c->name);
	}
}

int generate(FILE *out, const char *kind, const struct cli_tables *t)
{
	static const struct {
		const char *kind;
		void (*gen)(FILE *f, const struct cli_tables *t);
	} kinds[] = {
		{ "man", gen_man },
		{ "complete-bash", gen_bash },
		{ "complete-zsh", gen_zsh },
		{ "complete-fish", gen_fish },
		{ "options", gen_options },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i].kind)) {
			kinds[i].gen(out, t);
			return 0;
		}
	usage_error(NULL, "invalid argument '%s' for --generate: expected man, complete-bash, "
			  "complete-zsh, complete-fish or options", kind);
	return -1;
}

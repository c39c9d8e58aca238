/* report.c: the size report and CI budgets (see report.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "opts.h"
#include "jsonstr.h"
#include "report.h"
#include "internal.h"
#include "rules.h"

const char *human_size(uint64_t n, char *buf, size_t bufsz)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, bufsz, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, bufsz, "%.1f %s", v, unit[u]);
	return buf;
}

/* BYTES with an optional unit: K/M/G/T or KiB/MiB/GiB/TiB (powers of
 * 1024), KB/MB/GB/TB (powers of 1000). */
int parse_size(const char *arg, uint64_t *out)
{
	static const char *const units[] = { "K", "M", "G", "T" };
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || !(v >= 0 && v <= 1.8e19))
		return -1;
	if (*end) {
		int k;
		for (k = 0; k < 4; k++)
			if (!strncasecmp(end, units[k], 1))
				break;
		if (k == 4)
			return -1;
		bool si = !strcasecmp(end + 1, "B");
		if (!si && strcmp(end + 1, "") && strcasecmp(end + 1, "iB"))
			return -1;
		for (int i = 0; i <= k; i++)
			v *= si ? 1000 : 1024;
	}
	if (v > 1.8e19)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int budget_opt(int id, const char *arg, struct budgets *b)
{
	char *end;

	switch (id) {
	case OPT_MAX_SIZE:
		if (parse_size(arg, &b->max_size)) {
			usage_error(NULL, "invalid size '%s' for --max-size: expected bytes, optionally with K, M, G (1024s) or KB, MB, GB (1000s)", arg);
			return -1;
		}
		b->max_size_set = true;
		return 0;
	case OPT_MAX_FILES:
		errno = 0;
		b->max_files = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-') {
			usage_error(NULL, "invalid count '%s' for --max-files", arg);
			return -1;
		}
		b->max_files_set = true;
		return 0;
	case OPT_MIN_REDUCTION:
		errno = 0;
		b->min_reduction = strtod(arg, &end);
		if (*end == '%')
			end++;
		if (errno || end == arg || *end || b->min_reduction < 0 || b->min_reduction > 100) {
			usage_error(NULL, "invalid percentage '%s' for --min-reduction: expected 0 to 100", arg);
			return -1;
		}
		b->min_reduction_set = true;
		return 0;
	case OPT_FAIL_DEAD_RULES:
		b->fail_dead = true;
		return 0;
	}
	return 1;
}

bool budgets_any(const struct budgets *b)
{
	return b->max_size_set || b->max_files_set || b->min_reduction_set || b->fail_dead;
}

/* What the ignore file leaves out: hard-link savings, the generated
 * Dockerfile and sockets sent as files (scanned as other) are not its
 * doing. */
static double bytes_reduction(const struct stats *s)
{
	return stats_reduction(s->sent.bytes + s->linked_bytes - s->generated.bytes, s->scanned.bytes);
}

static double files_reduction(const struct stats *s)
{
	return stats_reduction(s->sent.files - s->generated.files - s->socket_files,
			       s->scanned.files);
}

size_t budgets_check(struct report *r, const struct budgets *b)
{
	const struct stats *s = r->s;
	size_t broken = 0;

	r->nbudgets = 0;
	if (b->max_size_set)
		r->budgets[r->nbudgets++] = (struct budget_result){
			"max-size", (double)b->max_size, (double)r->tar_bytes,
			r->tar_bytes <= b->max_size };
	if (b->max_files_set)
		r->budgets[r->nbudgets++] = (struct budget_result){
			"max-files", (double)b->max_files, (double)s->sent.files,
			s->sent.files <= b->max_files };
	if (b->min_reduction_set) {
		double red = bytes_reduction(s);
		r->budgets[r->nbudgets++] = (struct budget_result){
			"min-reduction", b->min_reduction, red, red >= b->min_reduction };
	}
	if (b->fail_dead)
		r->budgets[r->nbudgets++] = (struct budget_result){
			"dead-rules", 0, (double)stats_dead_rules(s), stats_dead_rules(s) == 0 };
	for (size_t i = 0; i < r->nbudgets; i++)
		broken += !r->budgets[i].ok;
	return broken;
}

/* One line per rule --fail-on-dead-rules fails on, as lint names it. */
static void dead_rules_print(FILE *f, const struct report *r)
{
	const struct stats *s = r->s;

	for (size_t i = 0; s->uses && i < s->nrules; i++) {
		const struct rule_use *u = &s->uses[i];
		struct ctxpack_rule_info ri, by;
		const char *text;
		size_t len;
		char q[32];
		if (!rule_use_is_dead(u) || ctxpack_rules_get(r->rules, i, &ri))
			continue;
		rules_shown(r->rules, i, q, sizeof(q), &text, &len);
		fprintf(f, "  %s:%d: rule '", ri.source, ri.line);
		text_fputq(f, text, len);
		fprintf(f, "' is %s", rule_use_name(u));
		if (u->use == RULE_REDUNDANT && !ctxpack_rules_get(r->rules, u->by, &by))
			fprintf(f, " (%s:%d covers it)", by.source, by.line);
		fputc('\n', f);
	}
}

void budgets_print_broken(FILE *f, const struct report *r)
{
	char a[32], b[32];

	for (size_t i = 0; i < r->nbudgets; i++) {
		const struct budget_result *x = &r->budgets[i];
		if (x->ok)
			continue;
		if (!strcmp(x->name, "max-size"))
			fprintf(f, "ctxpack: budget max-size broken: the context is %s (%.0f bytes), over the limit of %s (%.0f bytes)\n",
				human_size((uint64_t)x->value, a, sizeof(a)), x->value,
				human_size((uint64_t)x->limit, b, sizeof(b)), x->limit);
		else if (!strcmp(x->name, "max-files"))
			fprintf(f, "ctxpack: budget max-files broken: %.0f files would be sent, over the limit of %.0f\n",
				x->value, x->limit);
		else if (!strcmp(x->name, "min-reduction"))
			fprintf(f, "ctxpack: budget min-reduction broken: the ignore rules leave out %.2f%% of the bytes, less than %.2f%%\n",
				x->value, x->limit);
		else {
			fprintf(f, "ctxpack: budget dead-rules broken: %.0f rule(s) dead, overridden or redundant (as 'ctxpack lint' reports them):\n",
				x->value);
			dead_rules_print(f, r);
		}
	}
}

/* ---- text ---- */

struct style {
	const char *bold, *dim, *red, *green, *off;
};

static void heading(FILE *f, const struct style *st, const char *title)
{
	fprintf(f, "\n%s%s%s\n", st->bold, title, st->off);
}

static void rule_text(FILE *f, const ctxpack_rules *rules, size_t i, int width)
{
	struct ctxpack_rule_info ri;
	char buf[512], q[400];
	const char *text;
	size_t len;
	int n;

	if (ctxpack_rules_get(rules, i, &ri)) {
		fprintf(f, "%-*s", width, "?");
		return;
	}
	rules_shown(rules, i, q, sizeof(q), &text, &len);
	n = snprintf(buf, sizeof(buf), "%s:%d:%s", ri.source, ri.line,
		     text == q ? q : text_quote(q, sizeof(q), text, len));
	if (n >= width && width > 3 && (size_t)width < sizeof(buf))
		memcpy(buf + width - 3, "...", 4);
	fprintf(f, "%-*s", width, buf);
}

static void counts_line(FILE *f, const char *label, const struct stats_counts *c)
{
	char h[32];

	fprintf(f, "  %-10s %12s  %10llu files  %8llu dirs  %8llu other\n", label,
		human_size(c->bytes, h, sizeof(h)), (unsigned long long)c->files,
		(unsigned long long)c->dirs, (unsigned long long)c->other);
}

static void items_text(FILE *f, const struct stats_item *v, size_t n, bool files, bool kind)
{
	char h[32];

	for (size_t i = 0; i < n; i++) {
		fprintf(f, "  %12s", human_size(v[i].bytes, h, sizeof(h)));
		if (!files)
			fprintf(f, "  %8llu files", (unsigned long long)v[i].files);
		if (kind)
			fprintf(f, "  %-13s", classify_kind_name(v[i].kind));
		fputs("  ", f);
		fwrite(v[i].path, 1, v[i].len, f);
		fputs(files ? "\n" : "/\n", f);
	}
}

void report_text(FILE *f, const struct report *r, size_t top, bool color)
{
	static const struct style plain = { "", "", "", "", "" };
	static const struct style ansi = { "\033[1m", "\033[2m", "\033[31m", "\033[32m", "\033[0m" };
	const struct style *st = color ? &ansi : &plain;
	const struct stats *s = r->s;
	char h[32], h2[32];
	size_t shown = 0;

	fprintf(f, "%scontext%s    %s (%s builder; ignore file: %s; Dockerfile: %s)\n", st->bold,
		st->off, r->context, r->builder == CTXPACK_BUILDER_CLASSIC ? "classic" : "buildkit",
		r->ignore_file ? r->ignore_file : "none", r->dockerfile ? r->dockerfile : "-");
	counts_line(f, "scanned", &s->scanned);
	counts_line(f, "excluded", &s->excluded);
	counts_line(f, "sent", &s->sent);
	fprintf(f, "  %-10s %12s  uncompressed tar stream\n", "tar", human_size(r->tar_bytes, h, sizeof(h)));
	if (r->used_known) {
		counts_line(f, "read", &r->used);
		counts_line(f, "unread", &r->unused);
		for (size_t i = 0; i < r->ninstrs; i++)
			fprintf(f, "  %s:%d %s reads %s (%llu files)\n",
				r->dockerfile ? r->dockerfile : "Dockerfile", r->instrs[i].line,
				r->instrs[i].text, human_size(r->instrs[i].read.bytes, h, sizeof(h)),
				(unsigned long long)r->instrs[i].read.files);
	} else {
		fprintf(f, "  %-10s %12s  what the build reads is not known: %s\n", "read", "-",
			r->used_why);
	}
	if (r->transfer_known && r->transfer.none)
		fprintf(f, "  %-10s %12s  the build reads nothing from the context\n", "transfer",
			human_size(0, h, sizeof(h)));
	else if (r->transfer_known)
		fprintf(f, "  %-10s %12s  what BuildKit transfers for this Dockerfile (%llu files, %s of data%s)\n",
			"transfer", human_size(r->transfer.bytes, h, sizeof(h)),
			(unsigned long long)r->transfer.files,
			human_size(r->transfer.data_bytes, h2, sizeof(h2)),
			r->transfer.whole ? "; the whole context" : "");
	if (r->compressed)
		fprintf(f, "  %-10s %12s  with zstd -3 (%.1f%% of the tar), %s with gzip -6 (%.1f%%)\n",
			"compressed", human_size(r->zstd_bytes, h, sizeof(h)),
			r->tar_bytes ? 100.0 * (double)r->zstd_bytes / (double)r->tar_bytes : 0,
			human_size(r->gzip_bytes, h2, sizeof(h2)),
			r->tar_bytes ? 100.0 * (double)r->gzip_bytes / (double)r->tar_bytes : 0);
	if (s->linked_bytes)
		fprintf(f, "  %-10s %12s  not repeated: hard links to files already sent\n", "linked",
			human_size(s->linked_bytes, h, sizeof(h)));
	if (s->generated.files)
		fprintf(f, "  %-10s %12s  added by ctxpack: the Dockerfile from outside the context\n",
			"generated", human_size(s->generated.bytes, h, sizeof(h)));
	if (s->unreadable_dirs)
		fprintf(f, "  %-10s %12llu  directories below excluded ones could not be read: what "
			"they hold is not counted\n", "unreadable",
			(unsigned long long)s->unreadable_dirs);
	fprintf(f, "  %sreduction  %.1f%% of bytes, %.1f%% of files%s\n", st->bold,
		bytes_reduction(s), files_reduction(s), st->off);

	if (s->nrules) {
		heading(f, st, "rules (what each decided: excluded, re-included)");
		for (size_t i = 0; i < s->nrules; i++) {
			const struct stats_rule *x = &s->rules[i];
			fputs("  ", f);
			rule_text(f, r->rules, i, 36);
			if (!x->decided) {
				fprintf(f, "  %sdecides nothing%s%s%s%s\n", st->dim,
					s->uses ? " (" : "", s->uses ? rule_use_name(&s->uses[i]) : "",
					s->uses ? ")" : "", st->off);
				continue;
			}
			fprintf(f, "  %12s %9llu files", human_size(x->excluded_bytes, h, sizeof(h)),
				(unsigned long long)x->excluded_files);
			if (x->included_files)
				fprintf(f, "   re-included %s %llu files",
					human_size(x->included_bytes, h2, sizeof(h2)),
					(unsigned long long)x->included_files);
			if (s->uses && s->uses[i].use == RULE_REDUNDANT)
				fprintf(f, "   %sredundant (rule %zu covers it)%s", st->dim,
					s->uses[i].by, st->off);
			fputc('\n', f);
		}
		if (s->unattributed.entries)
			fprintf(f, "  %-36s  %12s %9llu files\n", "(no rule: not sendable)",
				human_size(s->unattributed.bytes, h, sizeof(h)),
				(unsigned long long)s->unattributed.files);
	}
	if (s->nlargest_files) {
		heading(f, st, "largest files sent");
		items_text(f, s->largest_files, s->nlargest_files, true, false);
	}
	if (s->nlargest_dirs) {
		heading(f, st, "largest directories sent (bytes below them)");
		items_text(f, s->largest_dirs, s->nlargest_dirs, false, false);
	}
	if (r->nunread_dirs) {
		heading(f, st, "largest sent directories the build reads nothing of");
		items_text(f, r->unread_dirs, r->nunread_dirs, false, false);
	}
	if (s->nexts) {
		heading(f, st, "sent bytes by extension");
		for (size_t i = 0; i < s->nexts && shown < top; i++, shown++)
			fprintf(f, "  %12s  %8llu files  %s\n", human_size(s->exts[i].bytes, h, sizeof(h)),
				(unsigned long long)s->exts[i].files,
				s->exts[i].ext[0] ? s->exts[i].ext : "(none)");
	}
	if (s->nsuspicious) {
		heading(f, st, "sent directories that look like dependencies, caches or build output");
		fputs(st->red, f);
		items_text(f, s->suspicious, s->nsuspicious, false, true);
		fputs(st->off, f);
	}
	if (r->dupes) {
		const struct dupes *d = r->dupes;
		char title[160];
		snprintf(title, sizeof(title),
			 "duplicate content: %llu files in %zu groups repeat %s (of %llu files compared)",
			 (unsigned long long)d->files, d->ngroups,
			 human_size(d->repeated_bytes, h, sizeof(h)), (unsigned long long)d->candidates);
		heading(f, st, title);
		for (size_t i = 0; i < d->ngroups && i < top; i++) {
			const struct dupes_group *g = &d->groups[i];
			fprintf(f, "  %12s  %zu x %s  ", human_size((g->n - 1) * g->size, h, sizeof(h)),
				g->n, human_size(g->size, h2, sizeof(h2)));
			for (size_t k = 0; k < g->n && k < 3; k++) {
				fputs(k ? ", " : "", f);
				fwrite(g->v[k]->path, 1, g->v[k]->len, f);
			}
			if (g->n > 3)
				fprintf(f, ", ... (%zu more)", g->n - 3);
			fputc('\n', f);
		}
	}
	if (r->nbudgets) {
		heading(f, st, "budgets");
		for (size_t i = 0; i < r->nbudgets; i++) {
			const struct budget_result *b = &r->budgets[i];
			fprintf(f, "  %s%-6s%s %-14s limit %.2f, measured %.2f\n",
				b->ok ? st->green : st->red, b->ok ? "ok" : "BROKEN", st->off, b->name,
				b->limit, b->value);
		}
	}
}

/* ---- JSON ---- */

static void jcounts(FILE *f, const char *key, const struct stats_counts *c, bool more)
{
	fprintf(f, "\"%s\":{\"entries\":%llu,\"files\":%llu,\"dirs\":%llu,\"other\":%llu,\"bytes\":%llu%s", key,
		(unsigned long long)c->entries, (unsigned long long)c->files,
		(unsigned long long)c->dirs, (unsigned long long)c->other,
		(unsigned long long)c->bytes, more ? "" : "}");
}

static void jitems(FILE *f, const char *key, const struct stats_item *v, size_t n, bool files,
		   bool kind)
{
	fprintf(f, ",\n\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",{\"path\":" : "{\"path\":", f);
		json_string(f, v[i].path, v[i].len);
		if (!files)
			fprintf(f, ",\"files\":%llu", (unsigned long long)v[i].files);
		if (kind)
			fprintf(f, ",\"kind\":\"%s\"", classify_kind_name(v[i].kind));
		fprintf(f, ",\"bytes\":%llu}", (unsigned long long)v[i].bytes);
	}
	fputc(']', f);
}

static void jstr(FILE *f, const char *s)
{
	if (s)
		json_string(f, s, strlen(s));
	else
		fputs("null", f);
}

/* "used": what the build reads of what is sent (null members and
 * "unknown" when the Dockerfile could not be read); "transfer": what
 * BuildKit transfers for it (null for the classic builder). */
static void json_used(FILE *f, const struct report *r)
{
	fputs("\"used\":{", f);
	if (r->used_known) {
		jcounts(f, "read", &r->used, false);
		fputs(",", f);
		jcounts(f, "unread", &r->unused, false);
		fputs(",\"instructions\":[", f);
		for (size_t i = 0; i < r->ninstrs; i++) {
			fprintf(f, "%s{\"line\":%d,\"instruction\":", i ? "," : "",
				r->instrs[i].line);
			jstr(f, r->instrs[i].text);
			fputs(",", f);
			jcounts(f, "read", &r->instrs[i].read, false);
			fputs("}", f);
		}
		fputs("]", f);
		jitems(f, "largest_unread_dirs", r->unread_dirs, r->nunread_dirs, false, false);
		fputs(",\"unknown\":null", f);
	} else {
		fputs("\"read\":null,\"unread\":null,\"unknown\":", f);
		jstr(f, r->used_why);
	}
	fputs("},\n\"transfer\":", f);
	if (r->transfer_known) {
		const struct transfer *t = &r->transfer;
		fprintf(f, "{\"whole_context\":%s,\"nothing\":%s,\"entries\":%llu,\"files\":%llu,\"data_bytes\":%llu,\"bytes\":%llu}",
			t->whole ? "true" : "false", t->none ? "true" : "false",
			(unsigned long long)t->entries, (unsigned long long)t->files,
			(unsigned long long)t->data_bytes, (unsigned long long)t->bytes);
	} else {
		fputs("null", f);
	}
	fputs(",\n", f);
}

void report_json(FILE *f, const struct report *r)
{
	const struct stats *s = r->s;

	fputs("{\"version\":2,\"context\":", f);
	jstr(f, r->context);
	fprintf(f, ",\"builder\":\"%s\",\"dockerfile\":",
		r->builder == CTXPACK_BUILDER_CLASSIC ? "classic" : "buildkit");
	jstr(f, r->dockerfile);
	fputs(",\"ignore_file\":", f);
	jstr(f, r->ignore_file);
	fputs(",\n", f);
	jcounts(f, "scanned", &s->scanned, false);
	fputs(",\n", f);
	jcounts(f, "sent", &s->sent, true);
	fprintf(f, ",\"tar_bytes\":%llu,\"linked_bytes\":%llu,\"generated_files\":%llu,\"generated_bytes\":%llu},\n",
		(unsigned long long)r->tar_bytes, (unsigned long long)s->linked_bytes,
		(unsigned long long)s->generated.files, (unsigned long long)s->generated.bytes);
	jcounts(f, "excluded", &s->excluded, true);
	fprintf(f, ",\"unattributed_files\":%llu,\"unattributed_bytes\":%llu,\"unreadable_dirs\":%llu},\n",
		(unsigned long long)s->unattributed.files, (unsigned long long)s->unattributed.bytes,
		(unsigned long long)s->unreadable_dirs);
	json_used(f, r);
	fprintf(f, "\"reduction\":{\"bytes_pct\":%.2f,\"files_pct\":%.2f},\n",
		bytes_reduction(s), files_reduction(s));
	if (r->compressed)
		fprintf(f, "\"compression\":{\"zstd_level\":3,\"zstd_bytes\":%llu,\"gzip_level\":6,\"gzip_bytes\":%llu},\n",
			(unsigned long long)r->zstd_bytes, (unsigned long long)r->gzip_bytes);
	else
		fputs("\"compression\":null,\n", f);
	if (r->archive_compression)
		fprintf(f, "\"archive\":{\"compression\":\"%s\",\"level\":%d,\"bytes\":%llu},\n",
			r->archive_compression, r->archive_level, (unsigned long long)r->archive_bytes);
	else
		fputs("\"archive\":null,\n", f);
	fputs("\"rules\":[", f);
	for (size_t i = 0; i < s->nrules; i++) {
		const struct stats_rule *x = &s->rules[i];
		struct ctxpack_rule_info ri = { "", 0, "", 0 };
		const char *text = "";
		size_t len = 0;
		char q[32];
		if (!ctxpack_rules_get(r->rules, i, &ri))
			rules_shown(r->rules, i, q, sizeof(q), &text, &len);
		fprintf(f, "%s\n{\"index\":%zu,\"source\":", i ? "," : "", i);
		jstr(f, ri.source);
		fprintf(f, ",\"line\":%d,\"pattern\":", ri.line);
		json_string(f, text, len);
		fprintf(f, ",\"exception\":%s,\"excluded_files\":%llu,\"excluded_bytes\":%llu,\"included_files\":%llu,\"included_bytes\":%llu,\"decided\":%llu,\"dead\":%s,\"use\":\"%s\"",
			ri.pattern_len && ri.pattern[0] == '!' ? "true" : "false",
			(unsigned long long)x->excluded_files, (unsigned long long)x->excluded_bytes,
			(unsigned long long)x->included_files, (unsigned long long)x->included_bytes,
			(unsigned long long)x->decided,
			s->uses && rule_use_is_dead(&s->uses[i]) ? "true" : "false",
			s->uses ? rule_use_name(&s->uses[i]) : "unchecked");
		if (s->uses && s->uses[i].use == RULE_REDUNDANT)
			fprintf(f, ",\"covered_by\":%zu", s->uses[i].by);
		fputc('}', f);
	}
	fputc(']', f);
	jitems(f, "largest_files", s->largest_files, s->nlargest_files, true, false);
	jitems(f, "largest_dirs", s->largest_dirs, s->nlargest_dirs, false, false);
	fputs(",\n\"extensions\":[", f);
	for (size_t i = 0; i < s->nexts; i++) {
		fputs(i ? ",{\"ext\":" : "{\"ext\":", f);
		json_string(f, s->exts[i].ext, strlen(s->exts[i].ext));
		fprintf(f, ",\"files\":%llu,\"bytes\":%llu}", (unsigned long long)s->exts[i].files,
			(unsigned long long)s->exts[i].bytes);
	}
	fputc(']', f);
	jitems(f, "suspicious", s->suspicious, s->nsuspicious, false, true);
	if (r->dupes) {
		const struct dupes *d = r->dupes;
		fprintf(f, ",\n\"duplicates\":{\"files\":%llu,\"groups\":%zu,\"repeated_bytes\":%llu,"
			"\"compared\":%llu,\"top\":[", (unsigned long long)d->files, d->ngroups,
			(unsigned long long)d->repeated_bytes, (unsigned long long)d->candidates);
		for (size_t i = 0; i < d->ngroups && i < r->top; i++) {
			const struct dupes_group *g = &d->groups[i];
			fprintf(f, "%s{\"size\":%llu,\"count\":%zu,\"repeated_bytes\":%llu,\"paths\":[",
				i ? ",\n" : "\n", (unsigned long long)g->size, g->n,
				(unsigned long long)((g->n - 1) * g->size));
			for (size_t k = 0; k < g->n; k++) {
				fputs(k ? "," : "", f);
				json_string(f, g->v[k]->path, g->v[k]->len);
			}
			fputs("]}", f);
		}
		fputs("]}", f);
	}
	fputs(",\n\"budgets\":[", f);
	for (size_t i = 0; i < r->nbudgets; i++)
		fprintf(f, "%s{\"name\":\"%s\",\"limit\":%.17g,\"value\":%.17g,\"ok\":%s}", i ? "," : "",
			r->budgets[i].name, r->budgets[i].limit, r->budgets[i].value,
			r->budgets[i].ok ? "true" : "false");
	fputs("]}\n", f);
}

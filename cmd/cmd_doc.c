/* sockreuse doc: the behaviour reference (docs/BEHAVIOUR.md), generated from the case files,
 * the claims file (cases/claims) and the baseline reports of several kernels. Its output is
 * deterministic, so a test can check that the committed file is what the generator prints. */
#include "cmd/commands.h"
#include "parse/expect.h"
#include "plan/plan.h"
#include "lib/util.h"
#include "parse/vocab.h"
#include "reports/report.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct baselines {
	struct report *runs;
	struct kver *kver;
	size_t n;
};

/* A claim of the common advice, with the verdict the cases support (cases/claims). */
struct claim {
	char *text, *verdict, *why;
	char **globs;
	size_t nglobs;
};

struct claims {
	struct claim *v;
	size_t n;
};

/* Baselines are compact, compressed reports (<release>.json.gz); plain ones are read too. */
static int is_json(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return (n > 5 && strcmp(d->d_name + n - 5, ".json") == 0) ||
	       (n > 8 && strcmp(d->d_name + n - 8, ".json.gz") == 0);
}

static int load_baselines(const char *dir, struct baselines *b)
{
	struct dirent **names;
	int n = scandir(dir, &names, is_json, versionsort);
	memset(b, 0, sizeof(*b));
	if (n < 0)
		return 0;  /* no baselines: the reference shows expectations only */
	b->runs = xcalloc((size_t)n, sizeof(*b->runs));
	b->kver = xcalloc((size_t)n, sizeof(*b->kver));
	for (int i = 0; i < n; i++) {
		char err[512];
		char *path = xasprintf("%s/%s", dir, names[i]->d_name);
		if (json_read(path, &b->runs[b->n], err, sizeof(err)) < 0) {
			fprintf(stderr, "sockreuse doc: %s\n", err);
			free(path);
			return -1;
		}
		kver_upstream(b->runs[b->n].info.kernel_release, b->runs[b->n].info.kernel_version, &b->kver[b->n]);
		b->n++;
		free(path);
		free(names[i]);
	}
	free(names);
	return 0;
}

static const struct case_result *baseline_case(const struct report *r, const char *id)
{
	for (size_t i = 0; i < r->ncases; i++)
		if (strcmp(r->cases[i].id, id) == 0)
			return &r->cases[i];
	return NULL;
}

/* cases/claims: blocks of "claim TEXT", "verdict WORD", "why TEXT", "cases GLOB"... lines. */
static int load_claims(const char *path, struct claims *c)
{
	memset(c, 0, sizeof(*c));
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -1;
	char line[2048];
	int no = 0;
	while (fgets(line, sizeof(line), f)) {
		no++;
		line[strcspn(line, "\n")] = '\0';
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		char *val = s + strcspn(s, " \t");
		if (*val)
			*val++ = '\0';
		while (*val == ' ' || *val == '\t')
			val++;
		if (strcmp(s, "claim") == 0) {
			c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
			memset(&c->v[c->n], 0, sizeof(*c->v));
			c->v[c->n++].text = xstrdup(val);
			continue;
		}
		if (!c->n) {
			fprintf(stderr, "sockreuse doc: %s:%d:1: expected 'claim TEXT' first\n", path, no);
			fclose(f);
			return -1;
		}
		struct claim *cl = &c->v[c->n - 1];
		if (strcmp(s, "verdict") == 0) {
			cl->verdict = xstrdup(val);
		} else if (strcmp(s, "why") == 0) {
			char *w = xasprintf("%s%s%s", cl->why ? cl->why : "", cl->why ? " " : "", val);
			free(cl->why);
			cl->why = w;
		} else if (strcmp(s, "cases") == 0) {
			cl->globs = xrealloc(cl->globs, (cl->nglobs + 1) * sizeof(char *));
			cl->globs[cl->nglobs++] = xstrdup(val);
		} else {
			fprintf(stderr, "sockreuse doc: %s:%d:1: expected claim, verdict, why or cases, got '%s'\n", path,
				no, s);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* Markdown table cells may not hold '|' or newlines. */
static void cell(const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", stdout);
		else if (*s == '\n')
			putchar(' ');
		else
			putchar(*s);
	}
}

static void print_when(const struct condlist *cl)
{
	if (!cl->n) {
		fputs("otherwise", stdout);
		return;
	}
	for (size_t i = 0; i < cl->n; i++) {
		char *s = cond_str(&cl->v[i]);
		printf("%s`", i ? " " : "");
		cell(s);
		putchar('`');
		free(s);
	}
}

/* Observed outcome of one case on every baseline, "ok / ok / EADDRINUSE". */
static int observed_differs(const struct baselines *b, const char *id)
{
	const char *first = NULL;
	for (size_t k = 0; k < b->n; k++) {
		const struct case_result *r = baseline_case(&b->runs[k], id);
		const char *o = r ? (r->status == ST_SKIP ? "skip" : r->observed) : "-";
		if (!first)
			first = o;
		else if (strcmp(first, o) != 0)
			return 1;
	}
	return 0;
}

static void print_file(const struct plan *p, const struct case_file *cf, const struct baselines *b)
{
	size_t count = 0;
	for (size_t i = 0; i < p->ncases; i++)
		count += p->cases[i].cf == cf;
	printf("### %04d — %s\n\n", cf->number, cf->title);
	if (cf->about)
		printf("%s\n\n", cf->about);
	printf("%zu cases (`sockreuse list --filter '%04d/*'`), topology %s. Matrix:", count, cf->number,
	       cf->topology[0] == '{' ? "per case (see its params)" : cf->topology);
	for (size_t a = 0; a < cf->naxes; a++) {
		printf(" `%s` =", cf->axes[a].name);
		for (size_t v = 0; v < cf->axes[a].nvals; v++)
			printf(" %s", cf->axes[a].vals[v]);
		putchar(a + 1 < cf->naxes ? ';' : '.');
	}
	printf("\n\n| when | expected | why | reference |\n| --- | --- | --- | --- |\n");
	for (size_t r = 0; r < cf->nexpects; r++) {
		const struct expect_rule *e = &cf->expects[r];
		fputs("| ", stdout);
		print_when(&e->when);
		printf(" | **%s** | ", e->label);
		cell(e->why);
		fputs(" | ", stdout);
		for (size_t i = 0; i < e->nrefs; i++) {
			fputs(i ? "; " : "", stdout);
			cell(e->refs[i]);
		}
		fputs(" |\n", stdout);
	}
	if (!b->n) {
		putchar('\n');
		return;
	}
	printf("\nObserved:");
	for (size_t k = 0; k < b->n; k++) {
		size_t pass = 0, fail = 0, skip = 0, err = 0;
		for (size_t i = 0; i < p->ncases; i++) {
			if (p->cases[i].cf != cf)
				continue;
			const struct case_result *r = baseline_case(&b->runs[k], p->cases[i].id);
			if (!r)
				continue;
			pass += r->status == ST_PASS, fail += r->status == ST_FAIL;
			skip += r->status == ST_SKIP, err += r->status == ST_ERROR;
		}
		printf("%s %s: %zu pass, %zu fail, %zu skip, %zu error", k ? ";" : "", b->runs[k].info.kernel_release,
		       pass, fail, skip, err);
	}
	printf(".\n\n");
	size_t ndiff = 0;
	for (size_t i = 0; i < p->ncases; i++) {
		const struct case_inst *c = &p->cases[i];
		if (c->cf != cf || !observed_differs(b, c->id))
			continue;
		if (!ndiff++) {
			printf("Where kernels differ:\n\n| case |");
			for (size_t k = 0; k < b->n; k++)
				printf(" %s |", b->runs[k].info.kernel_release);
			printf("\n| --- |");
			for (size_t k = 0; k < b->n; k++)
				printf(" --- |");
			putchar('\n');
		}
		printf("| `%s` |", c->id);
		for (size_t k = 0; k < b->n; k++) {
			const struct case_result *r = baseline_case(&b->runs[k], c->id);
			printf(" %s (%s) |", r ? (r->status == ST_SKIP ? "skip" : r->observed) : "-",
			       r ? status_name(r->status) : "absent");
		}
		putchar('\n');
	}
	if (ndiff)
		putchar('\n');
}

/* How the matching cases came out on each baseline: "EADDRINUSE ×16" per distinct outcome. */
static void print_claim(const struct claim *cl, size_t n, const struct plan *p, const struct baselines *b)
{
	printf("### Claim %zu: %s\n\n**%s.** %s\n\n", n, cl->text, cl->verdict ? cl->verdict : "open",
	       cl->why ? cl->why : "");
	for (size_t g = 0; g < cl->nglobs; g++) {
		size_t matched = 0;
		const struct case_inst *first = NULL;
		for (size_t i = 0; i < p->ncases; i++)
			if (fnmatch(cl->globs[g], p->cases[i].id, 0) == 0)
				matched++, first = first ? first : &p->cases[i];
		printf("- `%s` (%zu cases%s%s%s)", cl->globs[g], matched, first ? ": " : "", first ? first->title : "",
		       "");
		for (size_t k = 0; k < b->n; k++) {
			char *outs[16];
			size_t counts[16], nout = 0;
			for (size_t i = 0; i < p->ncases; i++) {
				if (fnmatch(cl->globs[g], p->cases[i].id, 0))
					continue;
				const struct case_result *r = baseline_case(&b->runs[k], p->cases[i].id);
				char *o = r ? (r->status == ST_SKIP ? "skip" : r->observed) : "absent";
				size_t j;
				for (j = 0; j < nout; j++)
					if (strcmp(outs[j], o) == 0)
						break;
				if (j == nout && nout < 16)
					outs[nout] = o, counts[nout++] = 0;
				if (j < 16)
					counts[j]++;
			}
			printf("%s %s:", k ? ";" : " —", b->runs[k].info.kernel_release);
			for (size_t j = 0; j < nout; j++)
				printf(" %s ×%zu", outs[j], counts[j]);
		}
		printf("\n");
	}
	putchar('\n');
}

/* The params vocabulary, one key a line: KEY<TAB>VALUES<TAB>MEANING (parse/vocab.c). */
static int print_vocabulary(void)
{
	char vals[256];
	for (size_t i = 0; i < nvocab; i++)
		printf("%s\t%s\t%s\n", vocab[i].key, vocab_values(&vocab[i], vals, sizeof(vals)), vocab[i].about);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

int cmd_doc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cases", required_argument, NULL, 'c' }, { "baselines", required_argument, NULL, 'b' },
		{ "vocabulary", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *cases_dir = NULL, *base_dir = NULL;
	char dirbuf[4096], err[1024];
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cases_dir = optarg; break;
		case 'b': base_dir = optarg; break;
		case 'v': return print_vocabulary();
		case 'h':
			fputs("usage: sockreuse doc [--cases DIR] [--baselines DIR]\n"
			      "       sockreuse doc --vocabulary\n"
			      "\n"
			      "Prints the behaviour reference (docs/BEHAVIOUR.md) in Markdown: the claims and their\n"
			      "verdicts, then every case file with its expectations and the outcomes of the baselines.\n"
			      "\n"
			      "  --cases DIR      the case files (default: beside the binary, else installed)\n"
			      "  --baselines DIR  JSON reports to show outcomes from (default: none)\n"
			      "  --vocabulary     the params vocabulary instead: KEY, VALUES, MEANING, tab-separated\n", stdout);
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (!cases_dir)
		cases_dir = default_cases_dir(dirbuf, sizeof(dirbuf));
	struct plan p;
	struct baselines b = { 0 };
	struct claims cl;
	if (plan_load(cases_dir, &p, 0, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "sockreuse doc: %s\n", err);
		return EXIT_USAGE;
	}
	char *claims_path = xasprintf("%s/claims", cases_dir);
	if ((base_dir && load_baselines(base_dir, &b) < 0) || load_claims(claims_path, &cl) < 0) {
		free(claims_path);
		plan_free(&p);
		return EXIT_USAGE;
	}
	printf("# How Linux really handles address reuse\n\n"
	       "<!-- Generated by `sockreuse doc --baselines reports/baselines` (make docs) from cases/ and "
	       "reports/baselines/: edit those, not this file. -->\n\n"
	       "Each section below is one case file: the scenario, the expected outcome for each part of its "
	       "matrix (the first row that matches applies), why, and where that is written down");
	if (b.n) {
		printf("; then what each baseline kernel was measured to do (");
		for (size_t k = 0; k < b.n; k++)
			printf("%s%s", k ? ", " : "", b.runs[k].info.kernel_release);
		printf("), with every case whose outcome differs between kernels");
	}
	printf(". `sockreuse describe ID` shows one case in full.\n\n");
	if (cl.n) {
		printf("## The common advice, measured\n\n");
		for (size_t i = 0; i < cl.n; i++)
			print_claim(&cl.v[i], i + 1, &p, &b);
	}
	const char *group = NULL;
	for (size_t f = 0; f < p.nfiles; f++) {
		if (!group || strcmp(group, p.files[f].group) != 0) {
			group = p.files[f].group;
			printf("## %s\n\n", group);
		}
		print_file(&p, &p.files[f], &b);
	}
	for (size_t k = 0; k < b.n; k++)
		report_free(&b.runs[k]);
	free(b.runs);
	free(b.kver);
	free(claims_path);
	plan_free(&p);
	return 0;
}

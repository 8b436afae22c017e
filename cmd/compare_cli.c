/* sockreuse compare: reads two or more JSON reports, writes the comparison, and says through the
 * exit status whether anything changed: 0 nothing, 1 something, 2 usage error or bad input. */
#include "reports/compare.h"
#include "lib/util.h"
#include "lib/outfile.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG "sockreuse compare"
#define USAGE "usage: sockreuse compare A.json[.gz] B.json[.gz] [C.json ...] [--format text|md|html|junit]\n" \
	      "                         [--only-changes | --all] [--order version|args] [--output FILE]\n" \
	      "Every format shows every case, the changed ones first (--all, the default); --only-changes\n" \
	      "leaves the unchanged out. Runs are ordered by upstream kernel version (--order args: as given).\n"

enum { EXIT_SAME = 0, EXIT_CHANGED = 1, EXIT_BAD = 2 };

typedef int (*compare_writer)(FILE *, const struct comparison *, int);

struct format {
	const char *name, *alias;
	compare_writer write;
};

/* The scope is the same in every format: every case, changed ones first, unless --only-changes. */
static const struct format formats[] = {
	{ "text", "txt", compare_write_text },
	{ "md", "markdown", compare_write_md },
	{ "html", "htm", compare_write_html },
	{ "junit", "xml", compare_write_junit },
};

static const struct format *format_find(const char *name)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(name, formats[i].name) == 0 || strcmp(name, formats[i].alias) == 0)
			return &formats[i];
	return NULL;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n" USAGE, stderr);
	return EXIT_BAD;
}

/* The format, the comparison and its option, through outfile_write's one argument. */
struct compare_job {
	const struct format *fmt;
	const struct comparison *cmp;
	int only_changes;
};

static int run_job(FILE *f, const void *arg)
{
	const struct compare_job *job = arg;
	return job->fmt->write(f, job->cmp, job->only_changes);
}

/* --output as lib/outfile.h says: a regular file is replaced atomically, anything else written
 * through; no --output, or "-", is standard output. */
static int write_output(const char *output, const struct compare_job *job)
{
	char err[512];
	if (outfile_write(output ? output : "-", run_job, job, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	return 0;
}

int compare_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "only-changes", no_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ "order", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct format *fmt = &formats[0];
	const char *output = NULL;
	int only_changes = 0, all = 0, by_args = 0, opt;

	optind = 0; /* the caller may have parsed its own options: restart getopt from scratch */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			fmt = format_find(optarg);
			if (!fmt)
				return usage_error("unknown format '%s' (text, md, html or junit)", optarg);
			break;
		case 'c':
			only_changes = 1;
			break;
		case 'a':
			all = 1;
			break;
		case 'O':
			if (strcmp(optarg, "args") != 0 && strcmp(optarg, "version") != 0)
				return usage_error("unknown order '%s' (version or args)", optarg);
			by_args = strcmp(optarg, "args") == 0;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(USAGE
			      "\n"
			      "Lines JSON reports up by case id and lists the cases whose observed outcome or status\n"
			      "differs, or that are absent from a report: regression, fix, behaviour, coverage.\n"
			      "\n"
			      "  --format FMT     text (default), md, html (a case x kernel matrix) or junit\n"
			      "  --all            every case, the changed ones first (the default)\n"
			      "  --only-changes   only the cases that differ\n"
			      "  --order WHAT     version: runs by upstream kernel version (the default); args: as given\n"
			      "  --output FILE    write there (whole, through a rename) instead of stdout\n"
			      "\n"
			      "Exit status: 0 nothing changed, 1 something changed, 2 bad input.\n", stdout);
			return EXIT_SAME;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (only_changes && all)
		return usage_error("--only-changes and --all contradict each other");

	size_t n = (size_t)(argc - optind);
	if (n < 2)
		return usage_error("%s", n ? "needs at least two reports to compare"
					   : "no reports given: needs at least two");

	struct report *reports = xcalloc(n, sizeof(*reports));
	const char **sources = xcalloc(n, sizeof(*sources));
	size_t loaded = 0;
	int rc = EXIT_BAD;
	char err[512];

	for (; loaded < n; loaded++) {
		sources[loaded] = argv[optind + (int)loaded];
		if (json_read(sources[loaded], &reports[loaded], err, sizeof(err)) < 0) {
			fprintf(stderr, PROG ": %s\n", err);
			goto out;
		}
	}

	if (!by_args)
		compare_order_by_version(reports, sources, n);
	struct comparison cmp;
	compare_build(&cmp, reports, sources, n);
	struct compare_job job = { fmt, &cmp, only_changes };
	if (write_output(output, &job) == 0)
		rc = compare_nchanged(&cmp) ? EXIT_CHANGED : EXIT_SAME;
	compare_free(&cmp);
out:
	for (size_t i = 0; i < loaded; i++)
		report_free(&reports[i]);
	free(reports);
	free(sources);
	return rc;
}

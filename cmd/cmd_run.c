/* sockreuse run: plan, schedule, judge each outcome against its expectation, report. */
#include "cmd/commands.h"
#include "parse/expect.h"
#include "plan/plan.h"
#include "cmd/runinfo.h"
#include "cmd/select.h"
#include "parse/known.h"
#include "sched/sched.h"
#include "lib/util.h"
#include "reports/report.h"
#include "reports/term.h"
#include "lib/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>

enum color_when { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct run_opts {
	const char *cases_dir;
	struct selection select;
	int jobs, repeat, keep_going, maxfail;
	double timeout_s;
	const char *tap, *junit, *junit_annotated, *json, *jsonl;
	enum term_verbosity verbosity;
	enum color_when color;
	struct known_list known;   /* --known FILE: kernel bugs waived as xfail */
};

/* What the runs of one case came to so far (several with --repeat). */
struct tally {
	int runs;
	struct run_outcome first;
	double ms;
	struct buf variants;   /* "ok×3, EADDRINUSE×1" when runs disagree */
	int disagree;
	char **seen;           /* distinct "kind:observed" signatures */
	int *count;
	size_t nseen;
};

struct run_state {
	const struct plan *plan;
	const struct run_opts *opts;
	struct kver kernel;
	struct report report;
	struct tally *tallies;
	FILE *tap_stream;      /* stdout when TAP streams, else NULL */
	size_t tap_n;
	struct term_view *view;   /* when stdout is a terminal */
	FILE *jsonl;           /* --jsonl: one line per finished case */
	int jsonl_failed;
	size_t nbad;           /* failures and errors so far, for --maxfail */
	int stop;              /* --maxfail reached: the scheduler stops */
	struct case_result *results; /* the reports' slots in plan order, valid where done[i] */
	char *done;
	size_t nslots;
	size_t *slot_of;       /* plan index -> slot */
	size_t next_stream;    /* the first slot not yet streamed as TAP */
	int stdout_failed;     /* the TAP stream could not be written */
};

#define RUN_USAGE                                                                              \
	"usage: sockreuse run [--cases DIR] [--filter GLOB]... [--exclude GLOB]... [--filter-from FILE]\n" \
	"                     [--param KEY=VALUE]... [-j N] [--timeout SEC] [--repeat N] [--keep-going]\n" \
	"                     [--maxfail N | -x] [-q | -v] [--color=auto|always|never]\n"           \
	"                     [--tap FILE] [--junit FILE] [--junit-annotated FILE] [--json FILE]\n"      \
	"                     [--jsonl FILE] [--known FILE]\n"

static void usage_run(FILE *f)
{
	fputs(RUN_USAGE, f);
}

static void help_run(void)
{
	fputs(RUN_USAGE
	      "\n"
	      "Runs the cases, each in a forked child in a fresh network namespace, and reports them.\n"
	      "On a terminal it shows a progress line, each failure and error as it happens and a recap;\n"
	      "otherwise TAP version 13 goes to stdout unless --tap names a file.\n"
	      "\n"
	      "  --cases DIR          the case files (default: beside the binary, else installed)\n"
	      SELECT_HELP
	      "  -j, --jobs N         run N cases at once (default 1)\n"
	      "  --timeout SEC        kill a case after SEC seconds and report it as an error (default 30)\n"
	      "  --repeat N           run every case N times; differing outcomes fail\n"
	      "  --keep-going         report a case file that does not load as an error, run the others\n"
	      "  --maxfail N          stop after N failures or errors; cases not run are absent from\n"
	      "                       the reports, which say the run was interrupted\n"
	      "  -x, --exitfirst      --maxfail 1\n"
	      "  -q, --quiet          terminal: no progress and no failure as it happens, only the recap\n"
	      "  -v, --verbose        terminal: every case, and why for failures, errors and skips\n"
	      "  --color=WHEN         terminal colours: auto (default; off with NO_COLOR), always, never\n"
	      "  --tap FILE           TAP version 13\n"
	      "  --junit FILE         JUnit XML, valid under the Ant and Jenkins xunit schemas\n"
	      "  --junit-annotated FILE  JUnit XML with file and line on every testcase, for CI\n"
	      "                       annotations (GitLab, GitHub actions; Jenkins junit-10.xsd)\n"
	      "  --json FILE          the JSON report (reports/schema.json)\n"
	      "  --jsonl FILE         one JSON object a line as each case finishes, flushed per line\n"
	      "  --known FILE         known kernel bugs: listed failing cases are xfail, passing ones xpass\n"
	      "A report FILE '-' is standard output; a regular file is replaced atomically, anything\n"
	      "else (a device, a FIFO, a symlink) is written through.\n"
	      "\n"
	      "Exit status: 0 all passed (skips allowed), 1 a failure or error, 2 usage or input error,\n"
	      "4 everything skipped, 130 interrupted.\n", stdout);
}

static int parse_count(const char *opt, const char *arg, int max, int *out)
{
	long v;
	if (parse_long(arg, 1, max, &v) < 0) {
		fprintf(stderr, "sockreuse run: %s takes a number from 1 to %d, got '%s'\n", opt, max, arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* Where the count of option c goes, what messages call c, and the largest count it takes;
 * NULL when c takes no count. */
static int *count_option(struct run_opts *o, int c, const char **name, int *max)
{
	switch (c) {
	case 'j': *name = "-j"; *max = 256; return &o->jobs;
	case 'M': *name = "--maxfail"; *max = 1000000; return &o->maxfail;
	case 'r': *name = "--repeat"; *max = 100000; return &o->repeat;
	}
	return NULL;
}

static int parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "cases", required_argument, NULL, 'c' }, SELECT_LONGOPTS,
		{ "jobs", required_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' }, { "repeat", required_argument, NULL, 'r' },
		{ "tap", required_argument, NULL, 'T' }, { "junit", required_argument, NULL, 'J' },
		{ "json", required_argument, NULL, 'S' }, { "jsonl", required_argument, NULL, 'L' },
		{ "keep-going", no_argument, NULL, 'k' }, { "maxfail", required_argument, NULL, 'M' },
		{ "exitfirst", no_argument, NULL, 'x' }, { "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' }, { "color", required_argument, NULL, 'C' },
		{ "colour", required_argument, NULL, 'C' }, { "known", required_argument, NULL, 'K' },
		{ "junit-annotated", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c, sel;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:xqvh", longopts, NULL)) != -1) {
		if ((sel = select_option("sockreuse run", c, optarg, &o->select)) != 0) {
			if (sel < 0)
				return -1;
			continue;
		}
		const char *name;
		int max, *count = count_option(o, c, &name, &max);
		if (count) {
			if (parse_count(name, optarg, max, count) < 0)
				return -1;
			continue;
		}
		switch (c) {
		case 'c': o->cases_dir = optarg; break;
		case 'x': o->maxfail = 1; break;
		case 'q': o->verbosity = TERM_QUIET; break;
		case 'v': o->verbosity = TERM_VERBOSE; break;
		case 'C':
			if (strcmp(optarg, "auto") == 0)
				o->color = COLOR_AUTO;
			else if (strcmp(optarg, "always") == 0)
				o->color = COLOR_ALWAYS;
			else if (strcmp(optarg, "never") == 0)
				o->color = COLOR_NEVER;
			else {
				fprintf(stderr, "sockreuse run: --color takes auto, always or never, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'L': o->jsonl = optarg; break;
		case 't':
			if (parse_double(optarg, TIMEOUT_MIN_S, TIMEOUT_MAX_S, &o->timeout_s) < 0) {
				fprintf(stderr, "sockreuse run: --timeout takes seconds from %g to %g, got '%s'\n", TIMEOUT_MIN_S,
					TIMEOUT_MAX_S, optarg);
				return -1;
			}
			break;
		case 'T': o->tap = optarg; break;
		case 'J': o->junit = optarg; break;
		case 'A': o->junit_annotated = optarg; break;
		case 'S': o->json = optarg; break;
		case 'k': o->keep_going = 1; break;
		case 'K': {
			char err[1024];
			known_free(&o->known);
			if (known_load(optarg, &o->known, err, sizeof(err)) < 0) {
				fprintf(stderr, "sockreuse run: --known %s\n", err);
				return -1;
			}
			break;
		}
		case 'h': help_run(); exit(0);
		default: usage_run(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sockreuse run: unexpected argument '%s'\n", argv[optind]);
		usage_run(stderr);
		return -1;
	}
	return 0;
}

/* The report files a run writes, with the option that names each. */
struct report_out {
	const char *option;
	const char *path;
	int (*write)(FILE *, const struct report *);
};

#define MAX_REPORTS 4

static size_t report_outs(const struct run_opts *o, struct report_out out[MAX_REPORTS])
{
	size_t n = 0;
	if (o->tap)
		out[n++] = (struct report_out){ "--tap", o->tap, tap_write };
	if (o->junit)
		out[n++] = (struct report_out){ "--junit", o->junit, junit_write };
	if (o->junit_annotated)
		out[n++] = (struct report_out){ "--junit-annotated", o->junit_annotated, junit_write_annotated };
	if (o->json)
		out[n++] = (struct report_out){ "--json", o->json, json_write };
	return n;
}

/* Report paths are checked before anything runs: a report lost after the run is a run lost.
 * "-" is standard output, which also carries the TAP stream or the terminal view unless --tap
 * names a file, and no two reports (nor --jsonl) share one file. */
static int check_report_paths(const struct run_opts *o)
{
	struct report_out out[MAX_REPORTS + 1];
	size_t n = report_outs(o, out);
	char err[512];
	for (size_t i = 0; i < n; i++) {
		if (outfile_check(out[i].path, err, sizeof(err)) < 0) {
			fprintf(stderr, "sockreuse run: %s %s\n", out[i].option, err);
			return -1;
		}
		if (!o->tap && outfile_same(out[i].path, "-")) {
			fprintf(stderr, "sockreuse run: %s %s: standard output carries the TAP stream; "
				"give --tap FILE to write TAP elsewhere\n", out[i].option, out[i].path);
			return -1;
		}
	}
	if (o->jsonl)
		out[n++] = (struct report_out){ "--jsonl", o->jsonl, NULL };
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (outfile_same(out[i].path, out[j].path)) {
				fprintf(stderr, "sockreuse run: %s %s and %s %s are the same file: each report "
					"needs its own\n", out[j].option, out[j].path, out[i].option, out[i].path);
				return -1;
			}
	return 0;
}

/* A case file as reports name it: relative to the working directory when under it, so that CI
 * annotations find it in the checkout. */
static const char *case_file_shown(const char *path)
{
	char cwd[4096];
	size_t n;
	if (path[0] != '/' || !getcwd(cwd, sizeof(cwd)))
		return path;
	n = strlen(cwd);
	if (strncmp(path, cwd, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

/* A TAP stream nobody can read any more (a closed pipe, a full disk) stops, said once; the
 * run and its report files go on, and the exit status says that stdout failed. */
static void stream_flush(struct run_state *st)
{
	if (fflush(st->tap_stream) == 0 && !ferror(st->tap_stream))
		return;
	fprintf(stderr, "sockreuse run: cannot write standard output: %s; the TAP stream stops here, "
		"the report files are still written\n", strerror(errno ? errno : EIO));
	__fpurge(st->tap_stream);
	clearerr(st->tap_stream);
	st->tap_stream = NULL;
	st->stdout_failed = 1;
}

/* TAP streams in plan order, as every report is written: a case is shown once every case
 * before it is. At the end of a run that stopped early (all set), whatever finished is
 * shown, gaps skipped. */
static void stream_ready(struct run_state *st, int all)
{
	for (; st->next_stream < st->nslots; st->next_stream++) {
		size_t i = st->next_stream;
		if (!st->done[i] && !all)
			break;
		if (st->done[i] && st->tap_stream) {
			tap_case(st->tap_stream, ++st->tap_n, &st->results[i]);
			stream_flush(st);
		}
	}
}

/* A finished case goes to the event streams as it finishes: the terminal view, the --jsonl
 * events; then --maxfail counts it. (TAP, a report, streams in plan order: stream_ready.) */
static void emit(struct run_state *st, const struct case_result *c)
{
	if (st->jsonl && !st->jsonl_failed && json_case_line(st->jsonl, c) < 0)
		st->jsonl_failed = errno ? errno : EIO;
	if (st->view)
		term_case(st->view, c);
	if (c->status == ST_FAIL || c->status == ST_ERROR)
		if (++st->nbad == (size_t)st->opts->maxfail)
			st->stop = 1;
}

static const char *kind_name(enum run_kind k)
{
	return k == RUN_DONE ? "done" : k == RUN_SKIP ? "skip" : "error";
}

static void tally_add(struct tally *t, const struct run_outcome *o, double ms)
{
	char *sig = xasprintf("%s%s", o->kind == RUN_DONE ? "" : kind_name(o->kind),
			      o->kind == RUN_DONE ? o->observed : "");
	size_t i;
	for (i = 0; i < t->nseen; i++)
		if (strcmp(t->seen[i], sig) == 0)
			break;
	if (i == t->nseen) {
		t->seen = xrealloc(t->seen, (t->nseen + 1) * sizeof(char *));
		t->count = xrealloc(t->count, (t->nseen + 1) * sizeof(int));
		t->seen[t->nseen] = sig;
		t->count[t->nseen++] = 0;
	} else {
		free(sig);
	}
	t->count[i]++;
	if (t->runs == 0) {
		t->first = *o;
		memset(&t->first.facts, 0, sizeof(t->first.facts));
		kv_copy(&t->first.facts, &o->facts);
	}
	t->runs++;
	t->ms += ms;
}

static void tally_free(struct tally *t)
{
	for (size_t i = 0; i < t->nseen; i++)
		free(t->seen[i]);
	free(t->seen);
	free(t->count);
	kv_free(&t->first.facts);
}

/* Judges the runs of one case and keeps the result in its plan slot. */
static void finalize_case(struct run_state *st, size_t ci)
{
	const struct case_inst *c = &st->plan->cases[ci];
	struct tally *t = &st->tallies[ci];
	const struct expect_rule *rule = expect_pick(c->cf, &c->vars, st->kernel);
	struct case_result r = {
		.id = c->id, .number = c->cf->number, .title = c->title, .group = c->cf->group,
		.expected = rule->label, .observed = t->first.observed, .duration_ms = t->ms / t->runs,
		.rationale = rule->why, .refs = rule->refs, .nrefs = rule->nrefs,
	};
	struct buf detail = { 0 };
	buf_add(&detail, t->first.detail);
	r.params = c->params;
	r.facts = t->first.facts;
	switch (t->first.kind) {
	case RUN_DONE:
		r.status = expect_met(rule, t->first.observed, kv_get(&t->first.facts, "failed_at")) ? ST_PASS : ST_FAIL;
		break;
	case RUN_SKIP:
		r.status = ST_SKIP;
		break;
	case RUN_ERROR:
		r.status = ST_ERROR;
		break;
	}
	if (t->nseen > 1) {
		/* The same scenario gave different outcomes: a flaky case is never a pass. */
		buf_free(&detail);
		buf_printf(&detail, "outcome differs between %d runs:", t->runs);
		for (size_t i = 0; i < t->nseen; i++)
			buf_printf(&detail, " %s×%d", t->seen[i], t->count[i]);
		buf_printf(&detail, "; first run: %s", t->first.detail);
		if (r.status == ST_PASS || r.status == ST_SKIP)
			r.status = ST_FAIL;
	}
	if (st->opts->repeat > 1) {
		char runs[16];
		snprintf(runs, sizeof(runs), "%d", t->runs);
		kv_set(&t->first.facts, "runs", runs);
		r.facts = t->first.facts;
	}
	/* A known kernel bug: a listed case that fails as the entry says is xfail; one that passes
	 * is xpass (the bug may be fixed). Errors and skips stay what they are: a waiver is for
	 * a measured wrong outcome, not for a case that could not run. */
	const char *known = known_match(&st->opts->known, c->id);
	if (known && (r.status == ST_FAIL || r.status == ST_PASS)) {
		r.status = r.status == ST_FAIL ? ST_XFAIL : ST_XPASS;
		r.known = (char *)known;
	}
	r.detail = detail.s ? detail.s : "";
	r.file = (char *)case_file_shown(c->cf->path);
	r.line = rule->pos.line;
	struct case_result *slot = &st->results[st->slot_of[ci]];
	case_result_borrow(slot, &r);
	st->done[st->slot_of[ci]] = 1;
	buf_free(&detail);
	emit(st, slot);
	stream_ready(st, 0);
}

static void on_result(void *arg, size_t ci, int rep, const struct run_outcome *o, double ms)
{
	(void)rep;
	struct run_state *st = arg;
	struct tally *t = &st->tallies[ci];
	tally_add(t, o, ms);
	if (t->runs == st->opts->repeat)
		finalize_case(st, ci);
}

static void on_tick(void *arg)
{
	struct run_state *st = arg;
	if (st->view)
		term_tick(st->view);
}

static int write_reports(const struct run_state *st)
{
	struct report_out out[MAX_REPORTS];
	size_t n = report_outs(st->opts, out);
	char err[512];
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		if (report_write_file(out[i].path, out[i].write, &st->report, err, sizeof(err)) < 0)
			rc = -1, fprintf(stderr, "sockreuse run: %s\n", err);
	return rc;
}

/* A file that failed to parse under --keep-going is one `error` result, so that the
 * report says so instead of silently running fewer cases. */
static void bad_file_results(struct report *out, const char *bad)
{
	for (const char *line = bad; line && *line;) {
		const char *nl = strchr(line, '\n');
		char *msg = xstrndup(line, nl ? (size_t)(nl - line) : strlen(line));
		char *path = xstrndup(msg, strcspn(msg, ":"));
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		struct case_result r = { .id = (char *)base, .number = atoi(base), .title = "case file does not load",
					 .group = "load", .expected = "", .observed = "", .status = ST_ERROR,
					 .detail = msg, .rationale = "", .file = (char *)case_file_shown(path),
					 .line = atoi(msg + strlen(path) + (msg[strlen(path)] == ':')) };
		report_add(out, &r);
		free(path);
		free(msg);
		line = nl ? nl + 1 : NULL;
	}
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* The slots of the reports in plan order: file by file (the plan's files and the ones that did
 * not load are both sorted by name), each file's cases in matrix order. Results that did not
 * load are final at once; the others fill their slot as they finish. */
static void lay_out_slots(struct run_state *st, const char *bad)
{
	struct report bad_files = { 0 };
	bad_file_results(&bad_files, bad);
	size_t n = st->plan->ncases + bad_files.ncases, b = 0, slot = 0;
	st->nslots = n;
	st->results = xcalloc(n ? n : 1, sizeof(*st->results));
	st->done = xcalloc(n ? n : 1, 1);
	st->slot_of = xcalloc(st->plan->ncases ? st->plan->ncases : 1, sizeof(*st->slot_of));
	for (size_t ci = 0; ci <= st->plan->ncases; ci++) {
		const char *file = ci < st->plan->ncases ? base_name(st->plan->cases[ci].cf->path) : NULL;
		for (; b < bad_files.ncases && (!file || strcmp(base_name(bad_files.cases[b].file), file) < 0); b++) {
			case_result_copy(&st->results[slot], &bad_files.cases[b]);
			st->done[slot] = 1;
			emit(st, &st->results[slot++]);
		}
		if (file)
			st->slot_of[ci] = slot++;
	}
	report_free(&bad_files);
}

/* The finished results, in plan order, become the report. */
static void collect_results(struct run_state *st)
{
	for (size_t i = 0; i < st->nslots; i++) {
		if (st->done[i])
			report_add(&st->report, &st->results[i]);
		case_result_free(&st->results[i]);
	}
	free(st->results);
	free(st->done);
	free(st->slot_of);
	st->results = NULL;
	st->nslots = 0;
}

static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

/* SIGINT and SIGTERM stay blocked from start-up until the last report is in place: the
 * scheduler reads them through a signalfd and ends the run, and one that comes while the
 * cases load or the reports are written waits, so that no report is lost or half-written.
 * SIGPIPE is ignored: a reader of the TAP stream that goes away costs the stream, not the
 * report files. */
static void hold_signals(void)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The stop signal waiting while the signals are held, or 0. */
static int held_signal(void)
{
	sigset_t pending;
	sigemptyset(&pending);
	if (sigpending(&pending) < 0)
		return 0;
	return sigismember(&pending, SIGINT) ? SIGINT : sigismember(&pending, SIGTERM) ? SIGTERM : 0;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* https://no-color.org: a set, non-empty NO_COLOR turns colours off unless asked for. */
static int use_color(enum color_when w)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
	if (w != COLOR_AUTO)
		return w == COLOR_ALWAYS;
	return !(no && *no) && !(term && strcmp(term, "dumb") == 0);
}

/* Where the per-case output goes: the terminal view when stdout is a terminal, else TAP on
 * stdout unless --tap names a file; the --jsonl events. */
static int open_streams(struct run_state *st, size_t total)
{
	const struct run_opts *o = st->opts;
	int jsonl_stdout = o->jsonl && strcmp(o->jsonl, "-") == 0;
	if (jsonl_stdout && !o->tap) {
		fprintf(stderr, "sockreuse run: --jsonl - and the TAP stream would share stdout: give --tap FILE\n");
		return -1;
	}
	if (o->jsonl) {
		st->jsonl = jsonl_stdout ? stdout : fopen(o->jsonl, "we");
		if (!st->jsonl) {
			fprintf(stderr, "sockreuse run: cannot write %s: %s\n", o->jsonl, strerror(errno));
			return -1;
		}
	}
	if (jsonl_stdout)
		return 0;
	/* A report written to stdout at the end would land in the middle of the view. */
	struct report_out out[MAX_REPORTS];
	size_t n = report_outs(o, out), on_stdout = 0;
	for (size_t i = 0; i < n; i++)
		on_stdout |= outfile_same(out[i].path, "-");
	if (isatty(STDOUT_FILENO) && !on_stdout) {
		struct term_opts to = { .verbosity = o->verbosity, .color = use_color(o->color) };
		st->view = term_open(stdout, total, &to);
	} else if (!o->tap) {
		st->tap_stream = stdout;
		tap_begin(stdout);
	}
	return 0;
}

/* Ends the streams. The summary line goes to stderr unless stdout ends with it on the same
 * file already (a terminal, or TAP and stderr in one log). */
static void close_streams(struct run_state *st, const char *note)
{
	struct summary s = report_summary(&st->report);
	int on_stdout = st->view || st->tap_stream;
	if (st->tap_stream) {
		tap_end(stdout, st->tap_n, &st->report);
		stream_flush(st);
	}
	if (st->view)
		term_close(st->view, &st->report, note);
	else if (note)
		fprintf(stderr, "sockreuse run: %s\n", note);
	st->view = NULL;
	fflush(stdout);
	if (s.xpass) {
		fprintf(stderr, "sockreuse run: %zu case%s listed in %s passed (xpass): the known issue may be "
			"fixed on this kernel:", s.xpass, s.xpass == 1 ? "" : "s", st->opts->known.path);
		for (size_t i = 0, shown = 0; i < st->report.ncases && shown < 5; i++)
			if (st->report.cases[i].status == ST_XPASS)
				fprintf(stderr, "%s %s", shown++ ? "," : "", st->report.cases[i].id);
		fputs(s.xpass > 5 ? ", ...\n" : "\n", stderr);
	}
	if (!(on_stdout && same_file(STDOUT_FILENO, STDERR_FILENO))) {
		fprintf(stderr, "%zu passed, %zu failed, %zu skipped, %zu errors", s.pass, s.fail, s.skip, s.error);
		if (s.xfail || s.xpass)
			fprintf(stderr, ", %zu xfail, %zu xpass", s.xfail, s.xpass);
		fputc('\n', stderr);
	}
	if (st->jsonl && st->jsonl != stdout && fclose(st->jsonl) != 0 && !st->jsonl_failed)
		st->jsonl_failed = errno ? errno : EIO;
	if (st->jsonl_failed)
		fprintf(stderr, "sockreuse run: cannot write %s: %s\n", st->opts->jsonl, strerror(st->jsonl_failed));
	st->jsonl = NULL;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = { .jobs = 1, .repeat = 1, .timeout_s = 30 };
	char err[1024], dirbuf[4096];
	struct plan plan;
	struct ns_id origin;
	char *bad = NULL;

	hold_signals();
	if (parse_run_opts(argc, argv, &o) < 0 || check_report_paths(&o) < 0)
		return EXIT_USAGE;
	if (!o.cases_dir)
		o.cases_dir = default_cases_dir(dirbuf, sizeof(dirbuf));
	if (plan_load(o.cases_dir, &plan, o.keep_going, &bad, err, sizeof(err)) < 0) {
		fprintf(stderr, "sockreuse run: %s\n", err);
		return EXIT_USAGE;
	}
	select_apply(&plan, &o.select);
	if (plan.ncases == 0 && !(bad && *bad)) {
		fprintf(stderr, "sockreuse run: no case matches the filters\n");
		plan_free(&plan);
		return EXIT_USAGE;
	}
	/* Only cheaper forks hang on it: a plan that cannot be frozen still runs. */
	if (plan_freeze(&plan) < 0)
		fprintf(stderr, "sockreuse run: warning: plan_freeze: %s; every fork copies the plan\n", strerror(errno));
	if (ns_current(&origin) < 0) {
		fprintf(stderr, "sockreuse run: cannot read this process's network namespace\n");
		return EXIT_USAGE;
	}
	if (become_ns_root(err, sizeof(err)) < 0) {
		fprintf(stderr, "sockreuse run: %s\n", err);
		return EXIT_USAGE;
	}

	struct run_state st = { .plan = &plan, .opts = &o };
	struct utsname u;
	uname(&u);
	if (kver_upstream(u.release, u.version, &st.kernel) < 0) {
		fprintf(stderr, "sockreuse run: cannot read a version from kernel release '%s'\n", u.release);
		return EXIT_USAGE;
	}
	runinfo_fill(&st.report.info, &origin);
	st.tallies = xcalloc(plan.ncases ? plan.ncases : 1, sizeof(*st.tallies));
	size_t nbadfiles = 0;
	for (const char *b = bad; b && *b; b++)
		nbadfiles += *b == '\n';
	if (open_streams(&st, plan.ncases + nbadfiles) < 0) {
		free(st.tallies);
		report_free(&st.report);
		plan_free(&plan);
		return EXIT_USAGE;
	}
	lay_out_slots(&st, bad);
	stream_ready(&st, 0);
	double t0 = now_ms();
	int stopped_by = held_signal();
	struct sched_opts so = { .jobs = o.jobs, .timeout_s = o.timeout_s, .repeat = o.repeat, .origin = &origin,
				 .stop = &st.stop, .stopped_by = &stopped_by, .tick = on_tick };
	int rc = stopped_by ? 1 : plan.ncases && !st.stop ? sched_run(&plan, &so, on_result, &st, err, sizeof(err)) : 0;
	if (st.stop && rc == 0)
		rc = 2;  /* --maxfail reached by the files that did not load */
	st.report.info.duration_s = (now_ms() - t0) / 1000.0;
	size_t planned = st.nslots;
	stream_ready(&st, 1);
	collect_results(&st);
	st.report.interrupted = rc == 1 || rc == 2;
	if (rc < 0)
		fprintf(stderr, "sockreuse run: %s\n", err);
	char *note = NULL;
	size_t not_run = plan.ncases + nbadfiles - st.report.ncases;
	if (rc == 1) {
		st.report.interruption = xasprintf("interrupted by %s: %zu of %zu cases finished",
						   signal_name(stopped_by), st.report.ncases, planned);
		note = xasprintf("%s; the reports hold them", st.report.interruption);
	} else if (rc == 2) {
		/* Unrun cases are absent from every report, as after an interrupt, and the reports
		 * say how many and why. */
		char v[32];
		snprintf(v, sizeof(v), "%d", o.maxfail);
		kv_set(&st.report.info.properties, "run.maxfail", v);
		snprintf(v, sizeof(v), "%zu", not_run);
		kv_set(&st.report.info.properties, "run.not_run", v);
		note = xasprintf("stopped after %zu failure%s or error%s (--maxfail %d); %zu cases not run", st.nbad,
				 st.nbad == 1 ? "" : "s", st.nbad == 1 ? "" : "s", o.maxfail, not_run);
		st.report.interruption = xstrdup(note);
	}
	int wrc = write_reports(&st);
	close_streams(&st, note);
	free(note);
	struct summary s = report_summary(&st.report);
	int late_signal = rc != 1 && held_signal();
	if (late_signal)
		fprintf(stderr, "sockreuse run: %s came while the reports were written: they are complete\n",
			signal_name(held_signal()));

	for (size_t i = 0; i < plan.ncases; i++)
		tally_free(&st.tallies[i]);
	free(st.tallies);
	report_free(&st.report);
	plan_free(&plan);
	free(bad);
	select_free(&o.select);
	known_free(&o.known);
	if (rc == 1 || late_signal)
		return EXIT_INTERRUPTED;
	if (rc < 0 || wrc < 0 || st.stdout_failed || s.fail || s.error)
		return EXIT_FAILED;
	if (s.total && s.skip == s.total)
		return EXIT_ALL_SKIPPED;
	return EXIT_PASS;
}

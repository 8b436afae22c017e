/* sockreuse: a conformance suite for Linux socket address-reuse semantics. */
#include "cmd/commands.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: sockreuse COMMAND [OPTIONS]\n"
	      "\n"
	      "  run       run the cases: a live view on a terminal, else TAP on stdout; reports with\n"
	      "            --tap, --junit, --json, events with --jsonl\n"
	      "  list      list case ids and titles (--json: with params, file and line)\n"
	      "  describe  show one case as documentation: scenario, expected outcome, why\n"
	      "  compare   compare JSON reports from different kernels\n"
	      "  doc       print the behaviour reference (docs/BEHAVIOUR.md) from cases and baselines\n"
	      "  why       explain the bind() or connect() in front of you: this namespace's sockets, replayed\n"
	      "\n"
	      "  sockreuse COMMAND --help for a command's options; man sockreuse for the rest.\n"
	      "Exit status: 0 all passed (skips allowed), 1 a failure or error, 2 usage or input error,\n"
	      "4 everything skipped, 130 interrupted (the reports hold the cases that finished).\n", f);
}

/* What a command printed must have reached its reader: a full disk or a closed descriptor is
 * an error, not a silent exit 0. */
static int close_stdout(const char *name)
{
	errno = 0;
	int failed_before = ferror(stdout);
	if (fclose(stdout) == 0 && !failed_before)
		return 0;
	fprintf(stderr, "%s: cannot write standard output: %s\n", name, strerror(errno ? errno : EIO));
	return -1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("sockreuse %s\n", SOCKREUSE_VERSION);
		return 0;
	}
	static const struct { const char *name; int (*fn)(int, char **); } cmds[] = {
		{ "run", cmd_run }, { "list", cmd_list }, { "describe", cmd_describe },
		{ "compare", compare_main }, { "doc", cmd_doc }, { "why", cmd_why },
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmd, cmds[i].name) == 0) {
			/* getopt names argv[0] in its messages: "sockreuse run: unrecognized option" */
			char name[64];
			snprintf(name, sizeof(name), "sockreuse %s", cmd);
			argv[1] = name;
			int rc = cmds[i].fn(argc - 1, argv + 1);
			/* A command that failed has said why; one that succeeded must have been heard. */
			if (rc == 0 && close_stdout(name) < 0)
				rc = EXIT_FAILED;
			return rc;
		}
	}
	fprintf(stderr, "sockreuse: unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}

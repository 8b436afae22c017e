/* The runner's sub-commands. Each returns the process exit status. */
#ifndef SOCKREUSE_COMMANDS_H
#define SOCKREUSE_COMMANDS_H
#include <stddef.h>

enum exit_code {
	EXIT_PASS = 0,      /* no failure and no error (skips allowed) */
	EXIT_FAILED = 1,    /* at least one failure or error */
	EXIT_USAGE = 2,     /* usage or input error, found before any case ran */
	EXIT_ALL_SKIPPED = 4,
	EXIT_INTERRUPTED = 130,
};

int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_describe(int argc, char **argv);
int cmd_doc(int argc, char **argv);
int compare_main(int argc, char **argv);
int cmd_why(int argc, char **argv);

/* The cases folder: --cases, else the one beside the binary (a build tree), else the
 * installed one. */
const char *default_cases_dir(char *buf, size_t len);

#endif

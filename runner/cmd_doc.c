/* sockreuse doc: the behaviour reference (docs/BEHAVIOUR.md), generated from the case files
 * and, when given, the baseline reports of several kernels. */
#include "commands.h"

#include <stdio.h>

int cmd_doc(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sockreuse doc: not available yet\n");
	return EXIT_USAGE;
}

/* Output files that never leave a reader half a report, and never replace what is not a file.
 *
 * A path that names a regular file, or nothing yet, is written to a temporary file beside it
 * and then rename(2)d over it: a reader sees the old file or the whole new one. Anything else
 * (a device such as /dev/null, a FIFO, a symlink such as /dev/stdout, a socket) is opened and
 * written through, so that it stays what it is for everyone else. "-" is standard output. */
#ifndef SOCKREUSE_OUTFILE_H
#define SOCKREUSE_OUTFILE_H
#include <stdio.h>
#include <stddef.h>

struct outfile {
	const char *path;  /* as given */
	char *tmp;         /* the temporary to rename over path, or NULL when writing through */
	FILE *f;           /* write here */
	int is_stdout;
};

/* Is path the standard output ("-")? */
int outfile_is_stdout(const char *path);

/* Checks up front that path can be written, without creating or changing it: not empty, not a
 * directory, and a directory that takes new files when the file will be replaced. Returns 0,
 * or -1 with "cannot write PATH: reason" in err. */
int outfile_check(const char *path, char *err, size_t errlen);

/* Do two report paths name the same file? By the file itself when it exists (st_dev and st_ino,
 * so links and different spellings count), else by the canonical directory and name; "-" is
 * standard output, and "-" twice is always the same. Character devices are otherwise never
 * "the same": /dev/null may take any number of reports. */
int outfile_same(const char *a, const char *b);

/* Opens path for new content. Returns 0, or -1 with err set. */
int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen);
/* Flushes, syncs and closes, then renames the temporary into place. Returns 0, or -1 with
 * err set (and the temporary removed). Standard output is flushed, not closed. */
int outfile_commit(struct outfile *o, char *err, size_t errlen);
/* Gives up: closes and removes the temporary, leaving path as it was. */
void outfile_abort(struct outfile *o);

/* The whole job: open, write(f, arg), commit. A writer returns 0, or -1 on an I/O error. */
int outfile_write(const char *path, int (*write)(FILE *f, const void *arg), const void *arg,
		  char *err, size_t errlen);

#endif

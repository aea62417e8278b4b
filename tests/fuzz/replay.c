// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A fuzz target without libFuzzer: each input file run once, so that the
 * crashes the fuzzers found (tests/fuzz/regressions/NAME) stay fixed, and
 * the seeds (tests/fuzz/corpus/NAME) keep passing the target's checks.
 * Arguments: files or directories; none: those two directories, from the
 * top of the tree (make runs it there). Prints cmocka's summary lines,
 * which scripts/run-unit-tests.sh adds up; a broken input aborts, and the
 * last "[ RUN      ]" line names it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int n_inputs;

static int run_file(const char *path, bool skip)
{
	struct stat st;
	uint8_t *buf;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	/* the exact size: a target sees no byte past its input, as under libFuzzer */
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	n = read(fd, buf, st.st_size);
	close(fd);
	if (n != st.st_size) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		return -1;
	}
	n_inputs++;
	if (!skip) {
		printf("[ RUN      ] %s\n", path);
		fflush(stdout);
		LLVMFuzzerTestOneInput(buf, n);
		printf("[       OK ] %s\n", path);
	}
	free(buf);
	return 0;
}

static int select_file(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* A file, or every file of a directory in name order; a missing directory has none. */
static int run_path(const char *path, bool skip)
{
	struct dirent **names;
	struct stat st;
	int n, err = 0;

	if (stat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path, skip);
	n = scandir(path, &names, select_file, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *p;

		if (!err && asprintf(&p, "%s/%s", path, names[i]->d_name) > 0) {
			err = run_file(p, skip);
			free(p);
		}
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	char corpus[256], regressions[256];
	char *defaults[] = { corpus, regressions };
	char **paths = argv + 1;
	int n_paths = argc - 1;
	bool skip;

	snprintf(corpus, sizeof(corpus), "tests/fuzz/corpus/%s", fuzz_target_name);
	snprintf(regressions, sizeof(regressions), "tests/fuzz/regressions/%s", fuzz_target_name);
	if (!n_paths) {
		paths = defaults;
		n_paths = 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	skip = fuzz_unavailable != NULL;
	if (skip && getenv("CI")) {
		printf("[  FAILED  ] 1 test(s), listed below:\n[  FAILED  ] fuzz %s: %s, "
		       "and CI must run it\n", fuzz_target_name, fuzz_unavailable);
		return 1;
	}
	printf("[==========] fuzz %s: replaying inputs\n", fuzz_target_name);
	for (int i = 0; i < n_paths; i++) {
		if (run_path(paths[i], skip))
			return 1;
	}
	if (!n_inputs) {
		fprintf(stderr, "fuzz %s: no inputs\n", fuzz_target_name);
		return 1;
	}
	if (skip) {
		printf("[  SKIPPED ] %d test(s). (fuzz %s: %s)\n", n_inputs, fuzz_target_name,
		       fuzz_unavailable);
		return 0;
	}
	printf("[==========] fuzz %s: %d input(s) run.\n[  PASSED  ] %d test(s).\n",
	       fuzz_target_name, n_inputs, n_inputs);
	return 0;
}

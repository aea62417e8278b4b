// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Which files the TLS uprobes go on: libssl mappings told from the rest of
 * a /proc/PID/maps, executables with OpenSSL in them told by their
 * symbols, and each file probed once, by inode, whatever path finds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "tls_libs.h"

static void maps_lines(void **state)
{
	static const struct { const char *line, *path; } cases[] = {
		{ "7f1c2a400000-7f1c2a45b000 r--p 00000000 fe:00 333427                     "
		  "/usr/lib/x86_64-linux-gnu/libssl.so.3\n", "/usr/lib/x86_64-linux-gnu/libssl.so.3" },
		{ "7f1c2a400000-7f1c2a45b000 r-xp 00020000 08:01 12 /lib/libssl.so.1.1\n",
		  "/lib/libssl.so.1.1" },
		{ "7f1c2a400000-7f1c2a45b000 r-xp 00020000 08:01 12 /opt/my app/libssl.so\n",
		  "/opt/my app/libssl.so" },
		/* not libssl */
		{ "7f1c2a400000-7f1c2a45b000 r-xp 00000000 fe:00 1 /usr/lib/libcrypto.so.3\n", NULL },
		{ "7f1c2a400000-7f1c2a45b000 r-xp 00000000 fe:00 1 /usr/lib/libssl3.so\n", NULL },
		{ "7f1c2a400000-7f1c2a45b000 r-xp 00000000 fe:00 1 /usr/lib/libssl.sox\n", NULL },
		{ "7f1c2a400000-7f1c2a45b000 r-xp 00000000 fe:00 1 /libssl.so/other.so\n", NULL },
		{ "7ffd1c3de000-7ffd1c3ff000 rw-p 00000000 00:00 0                          [stack]\n",
		  NULL },
		{ "55d0b8a00000-55d0b8a21000 rw-p 00000000 00:00 0 \n", NULL },
		/* replaced since it was mapped: its new file is found by its next user */
		{ "7f1c2a400000-7f1c2a45b000 r-xp 00000000 fe:00 1 /usr/lib/libssl.so.3 (deleted)\n",
		  NULL },
		{ "garbage", NULL },
		{ "", NULL },
	};
	char out[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = tls_libs__maps_line_libssl(cases[i].line, out, sizeof(out));

		assert_int_equal(got, cases[i].path != NULL);
		if (got)
			assert_string_equal(out, cases[i].path);
	}
	/* a path longer than the room for it is none */
	assert_false(tls_libs__maps_line_libssl(cases[0].line, out, 10));
}

/* The system's libssl exports both; our own binary and libc do not. */
static void elf_symbols(void **state)
{
	static const char *const libssl[] = { "/usr/lib/x86_64-linux-gnu/libssl.so.3",
					      "/usr/lib/aarch64-linux-gnu/libssl.so.3" };
	int fd = -1;

	(void)state;
	for (size_t i = 0; i < sizeof(libssl) / sizeof(libssl[0]) && fd < 0; i++)
		fd = open(libssl[i], O_RDONLY);
	if (fd < 0 && getenv("CI"))
		fail_msg("no libssl.so.3: scripts/install-deps.sh installs libssl3");
	if (fd < 0)
		skip();
	assert_true(tls_libs__elf_exports_ssl(fd));
	close(fd);
	fd = open("/proc/self/exe", O_RDONLY);
	assert_true(fd >= 0);
	assert_false(tls_libs__elf_exports_ssl(fd));
	close(fd);
	fd = open("/dev/null", O_RDONLY);
	assert_false(tls_libs__elf_exports_ssl(fd));
	close(fd);
}

struct attach_log {
	int calls;
	int result;
};

static int fake_attach(void *ctx, const char *path)
{
	struct attach_log *log = ctx;

	assert_non_null(strstr(path, "/proc/self/fd/"));
	log->calls++;
	return log->result;
}

/* One inode, one attach: a second path to it (a link) finds it probed. */
static void once_per_inode(void **state)
{
	char dir[] = "/tmp/tls-libs-XXXXXX", a[64], b[64], c[64];
	struct attach_log log = { .result = 10 };
	struct tls_libs *t = tls_libs__new();
	FILE *f;

	(void)state;
	assert_non_null(t);
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/libssl.so.3", dir);
	snprintf(b, sizeof(b), "%s/link.so", dir);
	snprintf(c, sizeof(c), "%s/other.so", dir);
	f = fopen(a, "w");
	fclose(f);
	assert_int_equal(link(a, b), 0);
	f = fopen(c, "w");
	fclose(f);

	assert_int_equal(tls_libs__add(t, a, "flag", fake_attach, &log), 1);
	assert_int_equal(tls_libs__add(t, b, "process", fake_attach, &log), 0);
	assert_int_equal(tls_libs__add(t, a, "default", fake_attach, &log), 0);
	assert_int_equal(log.calls, 1);
	/* a file that cannot be probed: counted, and not tried again */
	log.result = -ENOENT;
	assert_int_equal(tls_libs__add(t, c, "process", fake_attach, &log), -ENOENT);
	assert_int_equal(tls_libs__add(t, c, "process", fake_attach, &log), 0);
	assert_int_equal(log.calls, 2);
	/* a path that is not there: no attach, no failure */
	assert_int_equal(tls_libs__add(t, "/nonexistent/libssl.so.3", "flag", fake_attach, &log),
			 -ENOENT);
	assert_int_equal(log.calls, 2);
	/* a reload's programs: every file probed, again */
	log.result = 9;
	assert_int_equal(tls_libs__attach_all(t, fake_attach, &log), 0);
	assert_int_equal(log.calls, 3);

	f = tmpfile();
	tls_libs__write_prometheus(t, f);
	{
		char text[4096] = "";

		rewind(f);
		assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
		assert_non_null(strstr(text, "slotap_tls_probes{path=\""));
		assert_non_null(strstr(text, "\",found=\"flag\",file=\""));
		assert_non_null(strstr(text, "\"} 9\n"));
		assert_non_null(strstr(text, "slotap_tls_attach_failures_total 1\n"));
	}
	fclose(f);
	tls_libs__free(t);
	unlink(a);
	unlink(b);
	unlink(c);
	rmdir(dir);
}

/* At most TLS_LIBS_MAX files: the one more is counted, not probed. */
static void bounded(void **state)
{
	char dir[] = "/tmp/tls-libs-XXXXXX", path[64];
	struct attach_log log = { .result = 10 };
	struct tls_libs *t = tls_libs__new();

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i <= TLS_LIBS_MAX; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%d.so", dir, i);
		f = fopen(path, "w");
		fclose(f);
		assert_int_equal(tls_libs__add(t, path, "process", fake_attach, &log),
				 i < TLS_LIBS_MAX ? 1 : -E2BIG);
	}
	assert_int_equal(log.calls, TLS_LIBS_MAX);
	tls_libs__free(t);
	for (int i = 0; i <= TLS_LIBS_MAX; i++) {
		snprintf(path, sizeof(path), "%s/%d.so", dir, i);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(maps_lines),
		cmocka_unit_test(elf_symbols),
		cmocka_unit_test(once_per_inode),
		cmocka_unit_test(bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

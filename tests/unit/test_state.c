// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* SLO state persistence: save, restore, and every way a state file can be wrong. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "config.h"
#include "slo.h"
#include "slo_registry.h"
#include "state.h"
#include "state_journal.h"
#include "util.h"

#define T0	1767225600ULL	/* 2026-01-01T00:00:00Z */
#define T_SAVE	(T0 + 3600)
#define T_LOAD	(T0 + 4000)
#define MS	1000000ULL
#define N_SLOS	3
#define HDR	24		/* magic, version, count, saved_at */

static char *ep_get_a[] = { "GET /a" };

static const struct slo_config base_slos[N_SLOS] = {
	{
		.name = "shop-availability", .service = "shop",
		.endpoints = ep_get_a, .n_endpoints = 1,
		.sli = SLO_SLI_AVAILABILITY, .objective = 0.99,
		.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
	},
	{
		.name = "shop-latency", .service = "shop",
		.sli = SLO_SLI_LATENCY, .objective = 0.95, .threshold_ns = 300 * MS,
		.window = SLO_WINDOW_CALENDAR_4W,
	},
	{
		.name = "billing-availability", .service = "billing",
		.sli = SLO_SLI_AVAILABILITY, .objective = 0.9,
		.window = SLO_WINDOW_CALENDAR_MONTH,
	},
};

static void set_bad(struct slo_config *sc, unsigned int from, unsigned int to)
{
	for (unsigned int code = from; code <= to; code++)
		sc->bad_status[code / 8] |= 1u << (code % 8);
}

/* out[] must outlive the registry: it keeps pointers into it. */
static void fill_slos(struct slo_config out[N_SLOS])
{
	memcpy(out, base_slos, sizeof(base_slos));
	set_bad(&out[0], 500, 599);
	set_bad(&out[2], 500, 599);
}

static struct slo_registry *new_registry(struct slo_config *slos, size_t n, __u64 now_s)
{
	struct slotap_config cfg = { .slos = slos, .n_slos = n };
	struct slo_registry *reg = slo_registry__new(&cfg, now_s);

	assert_non_null(reg);
	return reg;
}

/* An hour of traffic, different for every SLO so a mix-up shows. */
static void feed(struct slo_registry *reg)
{
	for (__u64 t = T0 + 10; t <= T_SAVE; t += 60) {
		slo_registry__record(reg, "shop", "GET", "/a", 200, 10 * MS, t);
		slo_registry__record(reg, "shop", "GET", "/a", 200, 10 * MS, t);
		if (t % 600 == 10)
			slo_registry__record(reg, "shop", "GET", "/a", 503, 400 * MS, t);
		slo_registry__record(reg, "shop", "POST", "/b", 200, 350 * MS, t);
		slo_registry__record(reg, "billing", "GET", "/x", t % 300 == 10 ? 500 : 200, MS, t);
	}
}

static size_t index_of(const struct slo_registry *reg, const char *name)
{
	for (size_t i = 0; i < slo_registry__count(reg); i++)
		if (!strcmp(slo_registry__config(reg, i)->name, name))
			return i;
	fail_msg("no SLO %s", name);
	return 0;
}

static void status_of(const struct slo_registry *reg, const char *name, struct slo_status *st)
{
	slo__status(slo_registry__engine(reg, index_of(reg, name)), T_LOAD, st);
}

static void assert_same_status(const struct slo_registry *a, const struct slo_registry *b,
			       const char *name)
{
	struct slo_status x, y;

	status_of(a, name, &x);
	status_of(b, name, &y);
	assert_true(x.events_total > 0);
	assert_int_equal(x.good_total, y.good_total);
	assert_int_equal(x.events_total, y.events_total);
	assert_int_equal(x.window_good, y.window_good);
	assert_int_equal(x.window_total, y.window_total);
	/* the same counts through the same arithmetic: bit for bit */
	assert_true(x.budget_remaining == y.budget_remaining);
}

static void assert_fresh(const struct slo_registry *reg, const char *name)
{
	struct slo_status st;

	status_of(reg, name, &st);
	assert_int_equal(st.events_total, 0);
	assert_int_equal(st.good_total, 0);
}

static char *path_of(const char *dir, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static bool exists(const char *dir, const char *name)
{
	char *p = path_of(dir, name);
	struct stat st;
	bool ok = !lstat(p, &st);

	free(p);
	return ok;
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static unsigned char *read_state(const char *dir, size_t *len)
{
	char *p = path_of(dir, STATE_FILE_NAME);
	FILE *f = fopen(p, "rb");
	unsigned char *buf;
	long size;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	buf = malloc(size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, size, f), size);
	fclose(f);
	free(p);
	*len = size;
	return buf;
}

static void write_state(const char *dir, const unsigned char *buf, size_t len)
{
	char *p = path_of(dir, STATE_FILE_NAME);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(p);
}

static __u64 get_le(const unsigned char *p, int n)
{
	__u64 v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le(unsigned char *p, int n, __u64 v)
{
	for (int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

/* So a test damages exactly one thing, not also the checksum. */
static void fix_checksum(unsigned char *buf, size_t len)
{
	__u64 h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len - 8; i++) {
		h ^= buf[i];
		h *= 0x100000001b3ULL;
	}
	put_le(buf + len - 8, 8, h);
}

/* Offset of the blob of the record whose key is name, and its length. */
static size_t find_blob(const unsigned char *buf, size_t len, const char *name, size_t *blob_len)
{
	size_t off = HDR, count = get_le(buf + 12, 4);

	for (size_t i = 0; i < count; i++) {
		size_t nl = get_le(buf + off, 2);
		const unsigned char *n = buf + off + 2;

		*blob_len = get_le(buf + off + 2 + nl, 4);
		off += 2 + nl + 4;
		/* the key, then "\x1e" and the definition's 16 hex digits */
		if (nl == strlen(name) + 17 && !memcmp(n, name, nl - 17) && n[nl - 17] == 0x1e)
			return off;
		off += *blob_len;
	}
	assert_true(off <= len);
	fail_msg("no record %s", name);
	return 0;
}

/* state__load() with its log captured: the caller frees *log. */
static int load_logged(struct slo_registry *reg, const char *dir, __u64 now_s, size_t *restored,
		       char **log)
{
	FILE *f = tmpfile();
	int saved, err;
	long size;

	assert_non_null(f);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	err = state__load(reg, dir, now_s, restored);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	*log = calloc(1, size + 1);
	assert_non_null(*log);
	assert_int_equal(fread(*log, 1, size, f), size);
	fclose(f);
	return err;
}

static size_t count_lines(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *l = s; *l; ) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		if (memmem(l, len, needle, strlen(needle)))
			n++;
		l += len + (nl ? 1 : 0);
	}
	return n;
}

/* Saves an hour of traffic of the three SLOs; returns that registry for comparing. */
static struct slo_registry *save_fed(const char *dir, struct slo_config slos[N_SLOS])
{
	struct slo_registry *reg;

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T0);
	feed(reg);
	assert_int_equal(state__save(reg, dir, T0), 0);
	return reg;
}

static void save_valid(const char *dir)
{
	struct slo_config slos[N_SLOS];

	slo_registry__free(save_fed(dir, slos));
}

/*
 * The file now in dir is damaged: loading it restores nothing, logs one
 * warning holding reason, and leaves it under the .damaged- name only.
 */
static void assert_damaged(const char *dir, const char *reason)
{
	struct slo_config slos[N_SLOS];
	struct slo_registry *reg;
	char aside[64], *log, *p;
	size_t restored = 99;

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(load_logged(reg, dir, T_LOAD, &restored, &log), 0);
	assert_int_equal(restored, 0);
	if (count_lines(log, "") != 1 || count_lines(log, "warning:") != 1 ||
	    !strstr(log, reason))
		fail_msg("want one warning with \"%s\", got: %s", reason, log);
	snprintf(aside, sizeof(aside), "%s.damaged-1", STATE_FILE_NAME);
	assert_true(exists(dir, aside));
	assert_false(exists(dir, STATE_FILE_NAME));
	for (size_t i = 0; i < N_SLOS; i++)
		assert_fresh(reg, slos[i].name);
	free(log);
	slo_registry__free(reg);

	/* ready for the next case */
	p = path_of(dir, aside);
	assert_int_equal(unlink(p), 0);
	free(p);
}

static int setup(void **state)
{
	char *dir = strdup("/tmp/slotap-test-state-XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	char *dir = *state;
	DIR *d = opendir(dir);
	struct dirent *de;
	int dfd, err = 0;

	if (!d)
		return -1;
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dfd, de->d_name, 0) && unlinkat(dfd, de->d_name, AT_REMOVEDIR))
			err = -1;
	}
	closedir(d);
	if (rmdir(dir))
		err = -1;
	free(dir);
	return err;
}

static void save_then_load_restores_counts(void **state)
{
	const char *dir = *state;
	struct slo_config saved_slos[N_SLOS], slos[N_SLOS];
	struct slo_registry *old = save_fed(dir, saved_slos), *reg;
	size_t restored = 0;
	char *log;

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(load_logged(reg, dir, T_LOAD, &restored, &log), 0);
	assert_int_equal(restored, N_SLOS);
	assert_int_equal(count_lines(log, "warning:"), 0);
	for (size_t i = 0; i < N_SLOS; i++)
		assert_same_status(old, reg, slos[i].name);
	/* the file stays: a crash before the next save restores it again */
	assert_true(exists(dir, STATE_FILE_NAME));

	/* and a restored registry saves and restores the same again */
	assert_int_equal(state__save(reg, dir, T0), 0);
	slo_registry__free(reg);
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS);
	for (size_t i = 0; i < N_SLOS; i++)
		assert_same_status(old, reg, slos[i].name);
	free(log);
	slo_registry__free(reg);
	slo_registry__free(old);
}

/* The value of the sample line that starts with series in reg's exposition. */
static double sample(const struct slo_registry *reg, const char *series)
{
	char *text = NULL, *p;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	double v;

	assert_non_null(out);
	assert_int_equal(slo_registry__write_prometheus(reg, out, T_LOAD), 0);
	fclose(out);
	for (p = strstr(text, series); p && p != text && p[-1] != '\n'; p = strstr(p + 1, series))
		;
	if (!p)
		fail_msg("no series %s", series);
	v = strtod(p + strlen(series), NULL);
	free(text);
	return v;
}

#define SHOP_AVAIL(metric, result)						\
	metric "{slo=\"shop-availability\",service=\"shop\",endpoint=\"GET /a\","	\
	"result=\"" result "\"} "

/*
 * The state restores the engine, not the exported counters: a crash loses
 * the events since the last save, so a counter restored from it would step
 * back below what Prometheus last scraped, and be counted again whole as a
 * reset. It starts at 0 like any counter of a new process; the window the
 * SLI and budget come from is restored (slotap_slo_window_events).
 */
static void restored_counters_start_at_zero(void **state)
{
	const char *dir = *state;
	struct slo_config saved_slos[N_SLOS], slos[N_SLOS];
	struct slo_registry *old = save_fed(dir, saved_slos), *reg;
	struct slo_status st;
	size_t restored = 0;

	status_of(old, "shop-availability", &st);
	assert_true(st.window_total > st.window_good && st.window_good > 0);
	assert_true(sample(old, SHOP_AVAIL("slotap_slo_events_total", "good")) == st.window_good);
	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS);
	assert_same_status(old, reg, "shop-availability");
	assert_true(sample(reg, SHOP_AVAIL("slotap_slo_events_total", "good")) == 0);
	assert_true(sample(reg, SHOP_AVAIL("slotap_slo_events_total", "bad")) == 0);
	assert_true(sample(reg, SHOP_AVAIL("slotap_slo_window_events", "good")) == st.window_good);
	assert_true(sample(reg, SHOP_AVAIL("slotap_slo_window_events", "bad")) ==
		    st.window_total - st.window_good);
	slo_registry__record(reg, "shop", "GET", "/a", 503, MS, T_LOAD);
	assert_true(sample(reg, SHOP_AVAIL("slotap_slo_events_total", "bad")) == 1);
	assert_true(sample(reg, SHOP_AVAIL("slotap_slo_window_events", "bad")) ==
		    st.window_total - st.window_good + 1);
	slo_registry__free(reg);
	slo_registry__free(old);
}

static void missing_file_starts_fresh(void **state)
{
	const char *dir = *state;
	struct slo_config slos[N_SLOS];
	struct slo_registry *reg;
	size_t restored = 99;
	char *log, *nodir;

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(load_logged(reg, dir, T_LOAD, &restored, &log), 0);
	assert_int_equal(restored, 0);
	assert_string_equal(log, "");
	assert_int_equal(dir_entries(dir), 0);
	for (size_t i = 0; i < N_SLOS; i++)
		assert_fresh(reg, slos[i].name);
	free(log);

	/* no directory at all: no state yet either */
	nodir = path_of(dir, "missing");
	restored = 99;
	assert_int_equal(load_logged(reg, nodir, T_LOAD, &restored, &log), 0);
	assert_int_equal(restored, 0);
	assert_string_equal(log, "");
	free(log);
	free(nodir);
	slo_registry__free(reg);
}

static void truncated_file_set_aside(void **state)
{
	const char *dir = *state;
	size_t len, blob_len, blob;
	unsigned char *buf;

	save_valid(dir);
	buf = read_state(dir, &len);
	blob = find_blob(buf, len, "shop-latency", &blob_len);
	const struct {
		size_t len;
		const char *reason;
	} cuts[] = {
		{ 0, "truncated" },
		{ HDR - 1, "truncated" },
		{ HDR + 8, "truncated" },		/* the first record cut */
		{ blob + blob_len / 2, "truncated" },	/* mid-state */
		{ blob, "truncated" },			/* a name, no state */
		{ len - 1, "truncated" },		/* the checksum cut */
		{ len - 8, "truncated" },		/* no checksum */
	};

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		write_state(dir, buf, cuts[i].len);
		assert_damaged(dir, cuts[i].reason);
	}
	free(buf);
}

static void flipped_byte_set_aside(void **state)
{
	const char *dir = *state;
	size_t len, i;
	unsigned char *buf;

	save_valid(dir);
	buf = read_state(dir, &len);
	/* a sample of positions through header, names, states and checksum */
	for (i = 0; i < len; i += i < 64 ? 7 : 997) {
		buf[i] ^= 0x10;
		write_state(dir, buf, len);
		/* a flipped length may read as truncation: either way, one warning */
		assert_damaged(dir, STATE_FILE_NAME);
		buf[i] ^= 0x10;
	}
	buf[len - 1] ^= 0x80;
	write_state(dir, buf, len);
	assert_damaged(dir, "checksum mismatch");
	buf[len - 1] ^= 0x80;
	buf[len / 2] ^= 0x01;
	write_state(dir, buf, len);
	assert_damaged(dir, "checksum mismatch");
	free(buf);
}

static void wrong_magic_or_version_set_aside(void **state)
{
	const char *dir = *state;
	unsigned char *buf;
	size_t len;

	save_valid(dir);
	buf = read_state(dir, &len);
	buf[0] = 'X';
	fix_checksum(buf, len);
	write_state(dir, buf, len);
	assert_damaged(dir, "bad magic");

	buf[0] = 'S';
	put_le(buf + 8, 4, 2);
	fix_checksum(buf, len);
	write_state(dir, buf, len);
	assert_damaged(dir, "version 2");

	put_le(buf + 8, 4, 0);
	fix_checksum(buf, len);
	write_state(dir, buf, len);
	assert_damaged(dir, "version 0");
	free(buf);
}

/* A valid checksum over lengths that do not fit the file. */
static void inconsistent_lengths_set_aside(void **state)
{
	const char *dir = *state;
	size_t len, blob_len, blob;
	unsigned char *buf, *big;
	__u64 name_len;

	save_valid(dir);
	buf = read_state(dir, &len);
	blob = find_blob(buf, len, "shop-latency", &blob_len);
	name_len = get_le(buf + HDR, 2);

	put_le(buf + 12, 4, N_SLOS + 1);
	fix_checksum(buf, len);
	write_state(dir, buf, len);
	assert_damaged(dir, "record 4 of 4");

	put_le(buf + 12, 4, 0xffffffff);
	fix_checksum(buf, len);
	write_state(dir, buf, len);
	assert_damaged(dir, "truncated");

	put_le(buf + 12, 4, N_SLOS - 1);
	fix_checksum(buf, len);
	write_state(dir, buf, len);
	assert_damaged(dir, "after the last of 2 records");

	put_le(buf + 12, 4, N_SLOS);
	put_le(buf + blob - 4, 4, 0xffffffff);
	fix_checksum(buf, len);
	write_state(dir, buf, len);
	assert_damaged(dir, "runs past the end");

	put_le(buf + blob - 4, 4, blob_len);
	put_le(buf + HDR, 2, 0xffff);
	fix_checksum(buf, len);
	write_state(dir, buf, len);
	assert_damaged(dir, "name runs past the end");

	/* bytes appended behind the last record */
	put_le(buf + HDR, 2, name_len);
	big = calloc(1, len + 5);
	assert_non_null(big);
	memcpy(big, buf, len - 8);
	fix_checksum(big, len + 5);
	write_state(dir, big, len + 5);
	assert_damaged(dir, "5 bytes after the last of 3 records");
	free(big);
	free(buf);
}

static void oversized_file_set_aside(void **state)
{
	const char *dir = *state;
	char *p = path_of(dir, STATE_FILE_NAME);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	/* sparse: costs no disk, and must not be read */
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)STATE_FILE_MAX + 1), 0);
	assert_int_equal(close(fd), 0);
	assert_damaged(dir, "larger than the 512 MiB limit");
	free(p);
}

/* The file checks out but one SLO's state does not: only that one starts fresh. */
static void damaged_record_starts_that_slo_fresh(void **state)
{
	const char *dir = *state;
	struct slo_config saved_slos[N_SLOS], slos[N_SLOS];
	struct slo_registry *old = save_fed(dir, saved_slos), *reg;
	size_t len, blob_len, blob, restored;
	unsigned char *buf;

	buf = read_state(dir, &len);
	blob = find_blob(buf, len, "shop-latency", &blob_len);
	buf[blob + blob_len / 2] ^= 0x04;
	fix_checksum(buf, len);
	write_state(dir, buf, len);

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS - 1);
	assert_fresh(reg, "shop-latency");
	assert_same_status(old, reg, "shop-availability");
	assert_same_status(old, reg, "billing-availability");
	/* not a damaged file: it stays where it is */
	assert_true(exists(dir, STATE_FILE_NAME));
	assert_int_equal(dir_entries(dir), 1);
	free(buf);
	slo_registry__free(reg);
	slo_registry__free(old);
}

static void changed_objective_starts_fresh(void **state)
{
	const char *dir = *state;
	struct slo_config saved_slos[N_SLOS], slos[N_SLOS];
	struct slo_registry *old = save_fed(dir, saved_slos), *reg;
	size_t restored = 0;
	char *log;

	fill_slos(slos);
	slos[1].objective = 0.97;
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(load_logged(reg, dir, T_LOAD, &restored, &log), 0);
	assert_int_equal(restored, N_SLOS - 1);
	assert_int_equal(count_lines(log, "warning:"), 0);
	assert_fresh(reg, "shop-latency");
	assert_same_status(old, reg, "shop-availability");
	assert_same_status(old, reg, "billing-availability");
	free(log);
	slo_registry__free(reg);

	/* a rolling window of another length is another spec too */
	fill_slos(slos);
	slos[0].window_s = 7 * 86400ULL;
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS - 1);
	assert_fresh(reg, "shop-availability");
	assert_same_status(old, reg, "shop-latency");
	slo_registry__free(reg);
	slo_registry__free(old);
}

/* What an SLO counts is part of its identity, beyond the engine's spec. */
static void changed_definition_starts_fresh(void **state)
{
	const char *dir = *state;
	struct slo_config saved_slos[N_SLOS], slos[N_SLOS];
	struct slo_registry *old = save_fed(dir, saved_slos), *reg;
	size_t restored = 0;

	fill_slos(slos);
	slos[1].threshold_ns = 500 * MS;		/* the latency SLO's threshold */
	set_bad(&slos[2], 429, 429);			/* one more bad status */
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, 1);
	assert_same_status(old, reg, "shop-availability");
	assert_fresh(reg, "shop-latency");
	assert_fresh(reg, "billing-availability");
	slo_registry__free(reg);
	slo_registry__free(old);
}

/* Which gRPC codes are bad is part of an availability SLO's identity too. */
static void changed_grpc_codes_start_fresh(void **state)
{
	const char *dir = *state;
	struct slo_config saved_slos[N_SLOS], slos[N_SLOS];
	struct slo_registry *old = save_fed(dir, saved_slos), *reg;
	size_t restored = 0;

	fill_slos(slos);
	slos[0].bad_grpc_codes = 1u << 14;
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS - 1);
	assert_fresh(reg, "shop-availability");
	assert_same_status(old, reg, "billing-availability");
	slo_registry__free(reg);
	slo_registry__free(old);
}

/* A file from before definitions were in the keys: taken as it is. */
static void keys_without_definition_restore(void **state)
{
	const char *dir = *state;
	struct slo_config saved_slos[N_SLOS], slos[N_SLOS];
	struct slo_registry *old = save_fed(dir, saved_slos), *reg;
	size_t len, off = HDR, out = HDR, restored = 0;
	unsigned char *buf = read_state(dir, &len), *legacy = malloc(len);

	assert_non_null(legacy);
	memcpy(legacy, buf, HDR);
	for (size_t i = 0, count = get_le(buf + 12, 4); i < count; i++) {
		size_t nl = get_le(buf + off, 2), bl = get_le(buf + off + 2 + nl, 4);

		assert_int_equal(buf[off + 2 + nl - 17], 0x1e);
		put_le(legacy + out, 2, nl - 17);
		memcpy(legacy + out + 2, buf + off + 2, nl - 17);
		memcpy(legacy + out + 2 + nl - 17, buf + off + 2 + nl, 4 + bl);
		out += 2 + nl - 17 + 4 + bl;
		off += 2 + nl + 4 + bl;
	}
	out += 8;
	fix_checksum(legacy, out);
	write_state(dir, legacy, out);
	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS);
	for (size_t i = 0; i < N_SLOS; i++)
		assert_same_status(old, reg, slos[i].name);
	free(buf);
	free(legacy);
	slo_registry__free(reg);
	slo_registry__free(old);
}

static void removed_slo_ignored_added_slo_fresh(void **state)
{
	const char *dir = *state;
	struct slo_config saved_slos[N_SLOS], slos[N_SLOS + 1];
	struct slo_registry *old = save_fed(dir, saved_slos), *reg;
	size_t restored = 0;

	/* shop-latency removed from the config */
	fill_slos(slos);
	slos[1] = slos[2];
	reg = new_registry(slos, N_SLOS - 1, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS - 1);
	assert_same_status(old, reg, "shop-availability");
	assert_same_status(old, reg, "billing-availability");
	slo_registry__free(reg);

	/* a new SLO, and one whose name is a prefix of a saved one */
	fill_slos(slos);
	slos[N_SLOS] = slos[0];
	slos[N_SLOS].name = "shop";
	reg = new_registry(slos, N_SLOS + 1, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS);
	assert_fresh(reg, "shop");
	for (size_t i = 0; i < N_SLOS; i++)
		assert_same_status(old, reg, slos[i].name);
	slo_registry__free(reg);
	slo_registry__free(old);
}

/* A reload: the running registry's state moves to the new one, no file involved. */
static void carry_over_matches_as_a_restart(void **state)
{
	struct slo_config old_slos[N_SLOS], slos[N_SLOS + 1];
	struct slo_registry *old, *reg;
	struct state_restored carried;

	(void)state;
	fill_slos(old_slos);
	old = new_registry(old_slos, N_SLOS, T0);
	feed(old);
	/* shop-latency's objective changed, billing-availability removed, "new" added */
	fill_slos(slos);
	slos[1].objective = 0.97;
	slos[2] = slos[0];
	slos[2].name = "new";
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(state__carry_over(reg, old, T_LOAD, &carried), 0);
	assert_int_equal(carried.configured, N_SLOS);
	assert_int_equal(carried.explicit, 1);
	assert_int_equal(carried.fresh, 1);
	assert_int_equal(carried.defaults, 0);
	assert_same_status(old, reg, "shop-availability");
	assert_fresh(reg, "shop-latency");
	assert_fresh(reg, "new");
	/* the old registry is untouched: a failed reload keeps it running */
	slo_registry__record(old, "shop", "GET", "/a", 200, MS, T_LOAD);
	slo_registry__record(reg, "shop", "GET", "/a", 200, MS, T_LOAD);
	assert_same_status(old, reg, "shop-availability");
	slo_registry__free(reg);
	slo_registry__free(old);
}

static void save_leaves_no_temporary_file(void **state)
{
	const char *dir = *state;
	char *tmp = path_of(dir, "." STATE_FILE_NAME ".tmp");
	FILE *f;

	save_valid(dir);
	assert_int_equal(dir_entries(dir), 1);
	assert_true(exists(dir, STATE_FILE_NAME));

	/* one left by a crash mid-save is overwritten, then gone */
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("half a state", f);
	assert_int_equal(fclose(f), 0);
	save_valid(dir);
	assert_int_equal(dir_entries(dir), 1);
	assert_true(exists(dir, STATE_FILE_NAME));
	free(tmp);
}

static void save_empty_registry(void **state)
{
	const char *dir = *state;
	struct slotap_config cfg = { 0 };
	struct slo_registry *reg = slo_registry__new(&cfg, T0);
	size_t restored = 99, len;
	unsigned char *buf;

	assert_non_null(reg);
	assert_int_equal(state__save(reg, dir, T0), 0);
	buf = read_state(dir, &len);
	assert_int_equal(len, HDR + 8);
	assert_memory_equal(buf, "SLOTAPST\1\0\0\0\0\0\0\0", 16);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, 0);
	assert_true(exists(dir, STATE_FILE_NAME));
	free(buf);
	slo_registry__free(reg);
}

static void save_into_missing_dir_fails(void **state)
{
	const char *dir = *state;
	struct slo_config slos[N_SLOS];
	struct slo_registry *reg;
	char *nodir = path_of(dir, "missing");

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T0);
	assert_int_equal(state__save(reg, nodir, T0), -ENOENT);
	assert_int_equal(dir_entries(dir), 0);
	free(nodir);
	slo_registry__free(reg);
}


/* ---- default SLO copies ---- */

static struct slo_config state_templates[2] = {
	{
		.name = "default-availability", .sli = SLO_SLI_AVAILABILITY, .objective = 0.99,
		.window = SLO_WINDOW_ROLLING, .window_s = 28 * 86400ULL,
	},
	{
		.name = "default-latency", .sli = SLO_SLI_LATENCY, .objective = 0.9,
		.threshold_ns = 300 * MS, .window = SLO_WINDOW_CALENDAR_4W,
	},
};

/*
 * The three SLOs and the two default SLOs: feed() then makes two copies,
 * default-availability of shop POST /b (shop-latency covers its latency)
 * and default-latency of billing GET /x (billing-availability covers it).
 */
static struct slo_registry *new_with_defaults(struct slo_config slos[N_SLOS],
					      struct slo_config *tmpl, size_t n_tmpl,
					      unsigned int max_defaults, __u64 now_s)
{
	struct slotap_config cfg = {
		.slos = slos, .n_slos = N_SLOS, .default_slos = tmpl, .n_default_slos = n_tmpl,
		.max_default_slos = max_defaults,
	};
	struct slo_registry *reg;

	fill_slos(slos);
	for (size_t i = 0; i < n_tmpl; i++)
		if (tmpl[i].sli == SLO_SLI_AVAILABILITY)
			set_bad(&tmpl[i], 500, 599);
	reg = slo_registry__new(&cfg, now_s);
	assert_non_null(reg);
	return reg;
}

static size_t copy_of(const struct slo_registry *reg, const char *name, const char *service,
		      const char *endpoint)
{
	for (size_t i = 0; i < slo_registry__count(reg); i++)
		if (slo_registry__is_default(reg, i) &&
		    !strcmp(slo_registry__config(reg, i)->name, name) &&
		    !strcmp(slo_registry__service(reg, i), service) &&
		    !strcmp(slo_registry__endpoint(reg, i), endpoint))
			return i;
	fail_msg("no copy of %s for %s %s", name, service, endpoint);
	return 0;
}

static void assert_same_copy(const struct slo_registry *a, const struct slo_registry *b,
			     const char *name, const char *service, const char *endpoint)
{
	struct slo_status x, y;

	slo__status(slo_registry__engine(a, copy_of(a, name, service, endpoint)), T_LOAD, &x);
	slo__status(slo_registry__engine(b, copy_of(b, name, service, endpoint)), T_LOAD, &y);
	assert_true(x.events_total > 0);
	assert_int_equal(x.good_total, y.good_total);
	assert_int_equal(x.events_total, y.events_total);
	assert_int_equal(x.window_good, y.window_good);
	assert_int_equal(x.window_total, y.window_total);
	assert_true(x.budget_remaining == y.budget_remaining);
}

#define KEY_POST_B	"default-availability\x1fshop\x1fPOST /b"
#define KEY_GET_X	"default-latency\x1f" "billing\x1fGET /x"

static void default_copies_round_trip(void **state)
{
	const char *dir = *state;
	struct slo_config saved_slos[N_SLOS], slos[N_SLOS], tmpl[2];
	struct slo_registry *old, *reg;
	size_t restored = 0, len, blob_len;
	unsigned char *buf;
	char *log;

	memcpy(tmpl, state_templates, sizeof(tmpl));
	old = new_with_defaults(saved_slos, tmpl, 2, 100, T0);
	feed(old);
	assert_int_equal(slo_registry__count(old), N_SLOS + 2);
	assert_int_equal(state__save(old, dir, T0), 0);
	/* the copies are records of their own, keyed by name, service and endpoint */
	buf = read_state(dir, &len);
	assert_int_equal(get_le(buf + 12, 4), N_SLOS + 2);
	assert_true(find_blob(buf, len, KEY_POST_B, &blob_len) > 0);
	assert_true(find_blob(buf, len, KEY_GET_X, &blob_len) > 0);
	free(buf);

	/* restored at once, before their endpoints' next request */
	reg = new_with_defaults(slos, tmpl, 2, 100, T_LOAD);
	assert_int_equal(slo_registry__count(reg), N_SLOS);
	assert_int_equal(load_logged(reg, dir, T_LOAD, &restored, &log), 0);
	assert_int_equal(restored, N_SLOS + 2);
	assert_int_equal(count_lines(log, "warning:"), 0);
	assert_non_null(strstr(log, "restored 3 of 3 SLOs and 2 default SLO copies"));
	assert_int_equal(slo_registry__count(reg), N_SLOS + 2);
	for (size_t i = 0; i < N_SLOS; i++)
		assert_same_status(old, reg, slos[i].name);
	assert_same_copy(old, reg, "default-availability", "shop", "POST /b");
	assert_same_copy(old, reg, "default-latency", "billing", "GET /x");
	/* and their requests carry on counting into them, no new copies */
	slo_registry__record(reg, "shop", "POST", "/b", 500, MS, T_LOAD);
	assert_int_equal(slo_registry__count(reg), N_SLOS + 2);
	{
		struct slo_status x, y;

		slo__status(slo_registry__engine(old, copy_of(old, "default-availability", "shop",
							      "POST /b")), T_LOAD, &x);
		slo__status(slo_registry__engine(reg, copy_of(reg, "default-availability", "shop",
							      "POST /b")), T_LOAD, &y);
		assert_int_equal(y.events_total, x.events_total + 1);
		assert_int_equal(y.good_total, x.good_total);
	}
	/* saved again though never seen since the restart */
	assert_int_equal(state__save(reg, dir, T0), 0);
	slo_registry__free(reg);
	reg = new_with_defaults(slos, tmpl, 2, 100, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS + 2);
	assert_same_copy(old, reg, "default-latency", "billing", "GET /x");
	free(log);
	slo_registry__free(reg);
	slo_registry__free(old);
}

/* Copies that no longer apply are left out; the rest restore. */
static void default_copies_that_no_longer_apply(void **state)
{
	const char *dir = *state;
	struct slo_config saved_slos[N_SLOS], slos[N_SLOS + 1], tmpl[2];
	struct slo_registry *old, *reg;
	size_t restored = 0;

	memcpy(tmpl, state_templates, sizeof(tmpl));
	old = new_with_defaults(saved_slos, tmpl, 2, 100, T0);
	feed(old);
	assert_int_equal(state__save(old, dir, T0), 0);

	/* default-latency gone: its copy is left out */
	memcpy(tmpl, state_templates, sizeof(tmpl));
	reg = new_with_defaults(slos, tmpl, 1, 100, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS + 1);
	assert_int_equal(slo_registry__count(reg), N_SLOS + 1);
	assert_same_copy(old, reg, "default-availability", "shop", "POST /b");
	slo_registry__free(reg);

	/* a changed objective: that copy starts fresh, at its next request */
	memcpy(tmpl, state_templates, sizeof(tmpl));
	tmpl[1].objective = 0.95;
	reg = new_with_defaults(slos, tmpl, 2, 100, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS + 1);
	slo_registry__free(reg);

	/* room for one copy only */
	memcpy(tmpl, state_templates, sizeof(tmpl));
	reg = new_with_defaults(slos, tmpl, 2, 1, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS + 1);
	assert_int_equal(slo_registry__count(reg), N_SLOS + 1);
	slo_registry__free(reg);

	/* shop POST /b now has an explicit availability SLO: no copy for it */
	{
		static char *ep_post_b[] = { "POST /b" };
		struct slotap_config cfg = {
			.slos = slos, .n_slos = N_SLOS + 1, .default_slos = tmpl,
			.n_default_slos = 2, .max_default_slos = 100,
		};

		memcpy(tmpl, state_templates, sizeof(tmpl));
		set_bad(&tmpl[0], 500, 599);
		fill_slos(slos);
		slos[N_SLOS] = slos[0];
		slos[N_SLOS].name = "post-b";
		slos[N_SLOS].endpoints = ep_post_b;
		reg = slo_registry__new(&cfg, T_LOAD);
		assert_non_null(reg);
		assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
		assert_int_equal(restored, N_SLOS + 1);
		/* the endpoint of the other copy is there, the post-b one too but no copy */
		assert_same_copy(old, reg, "default-latency", "billing", "GET /x");
		for (size_t i = 0; i < slo_registry__count(reg); i++)
			assert_false(slo_registry__is_default(reg, i) &&
				     !strcmp(slo_registry__endpoint(reg, i), "POST /b"));
		assert_fresh(reg, "post-b");
		slo_registry__free(reg);
	}
	slo_registry__free(old);
}

/* A file saved without default SLOs restores into an agent with them. */
static void file_without_copies_loads_with_defaults(void **state)
{
	const char *dir = *state;
	struct slo_config saved_slos[N_SLOS], slos[N_SLOS], tmpl[2];
	struct slo_registry *old = save_fed(dir, saved_slos), *reg;
	size_t restored = 0;

	memcpy(tmpl, state_templates, sizeof(tmpl));
	reg = new_with_defaults(slos, tmpl, 2, 100, T_LOAD);
	assert_int_equal(state__load(reg, dir, T_LOAD, &restored), 0);
	assert_int_equal(restored, N_SLOS);
	assert_int_equal(slo_registry__count(reg), N_SLOS);
	for (size_t i = 0; i < N_SLOS; i++)
		assert_same_status(old, reg, slos[i].name);
	slo_registry__free(reg);
	slo_registry__free(old);
}

/*
 * Damaged files are set aside as .damaged-1, -2, ...: the three newest
 * are kept, older ones removed, whatever the clock says.
 */
static void damaged_files_keep_the_newest(void **state)
{
	const char *dir = *state;
	struct slo_config slos[N_SLOS];
	char name[64], *log;
	size_t restored;

	fill_slos(slos);
	for (int k = 1; k <= STATE_DAMAGED_KEEP + 2; k++) {
		struct slo_registry *reg = new_registry(slos, N_SLOS, T_LOAD);

		write_state(dir, (const unsigned char *)"not a state", 11);
		/* the clock going back does not reorder them */
		assert_int_equal(load_logged(reg, dir, T_LOAD - k * 1000, &restored, &log), 0);
		snprintf(name, sizeof(name), STATE_FILE_NAME ".damaged-%d", k);
		if (!strstr(log, name))
			fail_msg("want %s named in: %s", name, log);
		free(log);
		slo_registry__free(reg);
	}
	assert_int_equal(dir_entries(dir), STATE_DAMAGED_KEEP);
	for (int k = 3; k <= STATE_DAMAGED_KEEP + 2; k++) {
		snprintf(name, sizeof(name), STATE_FILE_NAME ".damaged-%d", k);
		assert_true(exists(dir, name));
	}
}

static void chmod_dir(const char *dir, mode_t mode)
{
	assert_int_equal(chmod(dir, mode), 0);
}

/*
 * A state directory others can write, or a symlink, is refused with one
 * line naming it and the fix: at start, at every save and load.
 */
static void unsafe_state_dir_refused(void **state)
{
	const char *dir = *state;
	char *sub = path_of(dir, "state"), *link = path_of(dir, "link"), err[512], *log;
	struct slo_config slos[N_SLOS];
	struct slo_registry *reg;
	struct stat st;
	size_t restored = 99;

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T0);
	feed(reg);
	/* missing: created, mode 0700 */
	assert_int_equal(state__check_dir(sub, err, sizeof(err)), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(state__save(reg, sub, T0), 0);

	chmod_dir(sub, 0777);
	assert_int_equal(state__check_dir(sub, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, sub));
	assert_non_null(strstr(err, "writable by others"));
	assert_non_null(strstr(err, "chmod 0700"));
	assert_int_equal(state__save(reg, sub, T0), -EPERM);
	assert_int_equal(load_logged(reg, sub, T_LOAD, &restored, &log), 0);
	assert_int_equal(restored, 0);
	assert_int_equal(count_lines(log, "writable by others"), 1);
	free(log);
	chmod_dir(sub, 0770);
	assert_int_equal(state__check_dir(sub, err, sizeof(err)), -EPERM);
	chmod_dir(sub, 0700);

	assert_int_equal(symlink(sub, link), 0);
	assert_true(state__check_dir(link, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, link));
	assert_non_null(strstr(err, "is a symlink: refused"));
	assert_true(state__save(reg, link, T0) < 0);

	if (geteuid() == 0) {
		assert_int_equal(chown(sub, 65534, 65534), 0);
		assert_int_equal(state__check_dir(sub, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "owned by another user"));
		assert_int_equal(chown(sub, 0, 0), 0);
	}
	assert_int_equal(state__check_dir(sub, err, sizeof(err)), 0);
	assert_int_equal(unlink(link), 0);
	/* teardown removes one level: empty it here */
	free(link);
	link = path_of(sub, STATE_FILE_NAME);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(rmdir(sub), 0);
	free(link);
	free(sub);
	slo_registry__free(reg);
}

/*
 * Links planted in the directory are not followed: the temporary file is
 * made anew (O_EXCL), the state file is not read through one.
 */
static void links_in_the_dir_not_followed(void **state)
{
	const char *dir = *state;
	char *tmp = path_of(dir, "." STATE_FILE_NAME ".tmp"), *file = path_of(dir, STATE_FILE_NAME);
	char victim[] = "/tmp/slotap-test-victim-XXXXXX", *log, got[16] = "";
	struct slo_config slos[N_SLOS];
	struct slo_registry *reg;
	size_t restored = 99;
	int fd;

	fd = mkstemp(victim);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "precious", 8), 8);
	close(fd);
	assert_int_equal(symlink(victim, tmp), 0);
	save_valid(dir);
	fd = open(victim, O_RDONLY);
	assert_int_equal(read(fd, got, sizeof(got)), 8);
	close(fd);
	assert_string_equal(got, "precious");
	assert_int_equal(dir_entries(dir), 1);

	assert_int_equal(unlink(file), 0);
	assert_int_equal(symlink(victim, file), 0);
	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(load_logged(reg, dir, T_LOAD, &restored, &log), 0);
	assert_int_equal(restored, 0);
	assert_int_equal(count_lines(log, "warning:"), 1);
	free(log);
	slo_registry__free(reg);
	unlink(victim);
	free(tmp);
	free(file);
}

/*
 * A clock stepped back since the save: every SLO is restored all the same,
 * with one warning saying what happens (waits, or moves back).
 */
static void clock_back_restores(void **state)
{
	const char *dir = *state;
	const __u64 backs[] = { 600, 3 * 86400ULL };
	struct slo_config saved[N_SLOS], slos[N_SLOS];
	struct slo_registry *old, *reg;
	size_t restored;
	char *log;

	fill_slos(saved);
	old = new_registry(saved, N_SLOS, T0);
	feed(old);
	assert_int_equal(state__save(old, dir, T_SAVE), 0);
	for (size_t k = 0; k < 2; k++) {
		fill_slos(slos);
		reg = new_registry(slos, N_SLOS, T_SAVE - backs[k]);
		restored = 0;
		assert_int_equal(load_logged(reg, dir, T_SAVE - backs[k], &restored, &log), 0);
		assert_int_equal(restored, N_SLOS);
		assert_int_equal(count_lines(log, "warning:"), 1);
		assert_int_equal(count_lines(log, "the clock went back"), 1);
		assert_int_equal(count_lines(log, k ? "move their history back" : "wait for the clock"),
				 1);
		for (size_t i = 0; i < N_SLOS; i++) {
			struct slo_status x, y;

			slo__status(slo_registry__engine(old, index_of(old, slos[i].name)), T_SAVE, &x);
			slo__status(slo_registry__engine(reg, index_of(reg, slos[i].name)),
				    T_SAVE - backs[k], &y);
			assert_true(x.events_total > 0);
			assert_int_equal(x.events_total, y.events_total);
			assert_int_equal(x.good_total, y.good_total);
		}
		assert_true(exists(dir, STATE_FILE_NAME));
		free(log);
		slo_registry__free(reg);
	}
	slo_registry__free(old);
}

/* The snapshot's content hash: the same state, the same hash, whatever the time. */
static void snapshot_hash_tells_changes(void **state)
{
	struct slo_config slos[N_SLOS];
	struct slo_registry *reg;
	struct state_image a = {}, b = {};

	(void)state;
	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T0);
	feed(reg);
	assert_int_equal(state__snapshot(reg, T_SAVE, &a), 0);
	assert_int_equal(state__snapshot(reg, T_LOAD, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_true(memcmp(a.buf, b.buf, a.len) != 0);		/* saved_at differs */
	assert_true(a.content_hash == b.content_hash);
	slo_registry__record(reg, "billing", "GET", "/x", 200, MS, T_SAVE + 5);
	assert_int_equal(state__snapshot(reg, T_SAVE, &b), 0);
	assert_true(a.content_hash != b.content_hash);
	state__image_free(&a);
	state__image_free(&b);
	slo_registry__free(reg);
}

/*
 * SIGKILL at any moment of a save: the state file is the previous one or
 * the new one, whole, and the next save goes through.
 */
static void killed_mid_save_keeps_a_whole_file(void **state)
{
	const char *dir = *state;
	struct slo_config slos[N_SLOS];
	struct slo_registry *reg;
	unsigned int seed = 7;
	size_t restored;
	int mid = 0;

	save_valid(dir);
	for (int round = 0; round < 40; round++) {
		char *log, *tmp = path_of(dir, "." STATE_FILE_NAME ".tmp");
		struct timespec pause = { .tv_nsec = 100000 + rand_r(&seed) % 3000000 };
		pid_t pid = fork();
		int status;

		assert_true(pid >= 0);
		if (!pid) {
			fill_slos(slos);
			reg = new_registry(slos, N_SLOS, T0);
			feed(reg);
			for (__u64 t = T_SAVE;; t++) {
				slo_registry__record(reg, "shop", "GET", "/a", 200, MS, t);
				state__save(reg, dir, t);
			}
		}
		nanosleep(&pause, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		mid += access(tmp, F_OK) == 0;
		free(tmp);
		fill_slos(slos);
		reg = new_registry(slos, N_SLOS, T_LOAD);
		restored = 0;
		assert_int_equal(load_logged(reg, dir, T_LOAD, &restored, &log), 0);
		if (restored != N_SLOS)
			fail_msg("round %d: restored %zu of %d: %s", round, restored, N_SLOS, log);
		assert_int_equal(count_lines(log, "warning:"), 0);
		free(log);
		/* a temporary file the kill left is no obstacle */
		assert_int_equal(state__save(reg, dir, T_LOAD), 0);
		assert_int_equal(dir_entries(dir), 1);
		slo_registry__free(reg);
	}
	print_message("killed mid-save (temporary file left) in %d of 40 rounds\n", mid);
}

/* One save through the journal, as the agent does: the bytes it wrote. */
static size_t journal_save(struct state_journal *j, const struct slo_registry *reg,
			   const char *dir, __u64 now_s)
{
	struct state_image img = {};
	char err[256];
	size_t written;

	assert_int_equal(state__snapshot(reg, now_s, &img), 0);
	if (state_journal__save(j, &img, dir, err, sizeof(err), &written))
		fail_msg("journal save: %s", err);
	state__image_free(&img);
	return written;
}

static __u64 events_restored(const char *dir, const char *name, char **log)
{
	struct slo_config slos[N_SLOS];
	struct slo_registry *reg;
	struct slo_status st;
	size_t restored = 0;

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T_LOAD);
	assert_int_equal(load_logged(reg, dir, T_LOAD, &restored, log), 0);
	if (restored != N_SLOS)
		fail_msg("restored %zu of %d: %s", restored, N_SLOS, *log);
	status_of(reg, name, &st);
	slo_registry__free(reg);
	return st.events_total;
}

/*
 * After the first whole save, a save writes the chunks that changed, a
 * small fraction of the file, and a load applies them: the very state.
 */
static void journal_saves_only_what_changed(void **state)
{
	const char *dir = *state;
	struct slo_config slos[N_SLOS], again[N_SLOS];
	struct state_journal j = {};
	struct slo_registry *reg, *back;
	struct state_image img = {};
	size_t whole, restored, part;
	char *log;

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T0);
	feed(reg);
	assert_int_equal(state__snapshot(reg, T_SAVE, &img), 0);
	whole = journal_save(&j, reg, dir, T_SAVE);
	assert_int_equal(whole, img.len);
	assert_false(exists(dir, STATE_JOURNAL_NAME));
	for (int k = 1; k <= 5; k++) {
		slo_registry__record(reg, "shop", "GET", "/a", 503, 10 * MS, T_SAVE + 20 * k);
		slo_registry__record(reg, "billing", "GET", "/x", 200, MS, T_SAVE + 20 * k);
		part = journal_save(&j, reg, dir, T_SAVE + 20 * k);
		assert_true(part > 0 && part * 10 < whole);
	}
	assert_true(exists(dir, STATE_JOURNAL_NAME));
	fill_slos(again);
	back = new_registry(again, N_SLOS, T_LOAD);
	restored = 0;
	assert_int_equal(load_logged(back, dir, T_LOAD, &restored, &log), 0);
	assert_int_equal(restored, N_SLOS);
	assert_int_equal(count_lines(log, "warning:"), 0);
	for (size_t i = 0; i < N_SLOS; i++)
		assert_same_status(reg, back, slos[i].name);
	free(log);
	slo_registry__free(back);
	state__image_free(&img);
	state_journal__free(&j);
	slo_registry__free(reg);
}

/*
 * A batch torn by a crash, or damaged, ends the journal there: the saves
 * before it are restored. A journal of another base is ignored.
 */
static void journal_torn_or_damaged(void **state)
{
	const char *dir = *state;
	struct slo_config slos[N_SLOS];
	struct state_journal j = {};
	struct slo_registry *reg;
	__u64 events[4];
	char *jpath = path_of(dir, STATE_JOURNAL_NAME), *log;
	struct stat st;
	size_t sizes[4];
	unsigned char *buf;
	FILE *f;

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T0);
	feed(reg);
	journal_save(&j, reg, dir, T_SAVE);
	for (int k = 0; k < 4; k++) {
		slo_registry__record(reg, "billing", "GET", "/x", 200, MS, T_SAVE + 20 * (k + 1));
		journal_save(&j, reg, dir, T_SAVE + 20 * (k + 1));
		assert_int_equal(stat(jpath, &st), 0);
		sizes[k] = st.st_size;
		events[k] = events_restored(dir, "billing-availability", &log);
		free(log);
	}
	assert_true(events[3] == events[0] + 3);
	/* torn in the last batch */
	assert_int_equal(truncate(jpath, sizes[3] - 5), 0);
	assert_int_equal(events_restored(dir, "billing-availability", &log), events[2]);
	assert_int_equal(count_lines(log, "warning:"), 0);
	free(log);
	/* a byte of the second batch flipped: only the first applies */
	f = fopen(jpath, "r+b");
	assert_non_null(f);
	buf = malloc(sizes[3]);
	assert_int_equal(fread(buf, 1, sizes[3] - 5, f), sizes[3] - 5);
	buf[sizes[0] + 20] ^= 0x40;
	rewind(f);
	assert_int_equal(fwrite(buf, 1, sizes[3] - 5, f), sizes[3] - 5);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(events_restored(dir, "billing-availability", &log), events[0]);
	free(log);
	/* a new base: the journal of the old one is not applied to it */
	assert_int_equal(state__save(reg, dir, T_SAVE), 0);
	assert_true(exists(dir, STATE_JOURNAL_NAME));
	assert_int_equal(events_restored(dir, "billing-availability", &log), events[3]);
	free(log);
	free(buf);
	free(jpath);
	state_journal__free(&j);
	slo_registry__free(reg);
}

/* A journal that checks out batch by batch but not as a whole file: the base. */
static void journal_that_does_not_add_up(void **state)
{
	const char *dir = *state;
	struct slo_config slos[N_SLOS];
	struct state_journal j = {};
	struct slo_registry *reg;
	unsigned char batch[8 + 8 + 4 + 8];
	char *jpath = path_of(dir, STATE_JOURNAL_NAME), *log;
	__u64 base;
	FILE *f;

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T0);
	feed(reg);
	journal_save(&j, reg, dir, T_SAVE);
	slo_registry__record(reg, "billing", "GET", "/x", 200, MS, T_SAVE + 20);
	journal_save(&j, reg, dir, T_SAVE + 20);
	base = events_restored(dir, "billing-availability", &log) - 1;
	free(log);
	/* one valid batch writing 4 bytes at offset 100, file checksum untouched */
	put_le(batch, 4, 1);
	put_le(batch + 4, 4, 12);
	put_le(batch + 8, 4, 100);
	put_le(batch + 12, 4, 4);
	memcpy(batch + 16, "XXXX", 4);
	put_le(batch + 20, 8, fnv1a64(FNV1A64_OFFSET, batch, 20));
	f = fopen(jpath, "ab");
	assert_non_null(f);
	assert_int_equal(fwrite(batch, 1, sizeof(batch), f), sizeof(batch));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(events_restored(dir, "billing-availability", &log), base);
	assert_int_equal(count_lines(log, "taking the last whole file"), 1);
	free(log);
	free(jpath);
	state_journal__free(&j);
	slo_registry__free(reg);
}

/* Past the base's size, the journal gives way to a new whole file. */
static void journal_compacts(void **state)
{
	const char *dir = *state;
	struct slo_config slos[N_SLOS];
	struct state_journal j = {};
	struct slo_registry *reg;
	size_t whole, written, total = 0;
	int k, saves = 0;
	char *log;

	fill_slos(slos);
	reg = new_registry(slos, N_SLOS, T0);
	feed(reg);
	whole = journal_save(&j, reg, dir, T_SAVE);
	for (k = 1; k < 100000; k++) {
		slo_registry__record(reg, "shop", "GET", "/a", 200, MS, T_SAVE + 10 * k);
		written = journal_save(&j, reg, dir, T_SAVE + 10 * k);
		total += written;
		saves++;
		if (written == whole)
			break;
	}
	assert_int_equal(written, whole);
	assert_false(exists(dir, STATE_JOURNAL_NAME));
	/* at most the base again in journal, then the base */
	assert_true(total <= 2 * whole);
	print_message("%d saves: %zu bytes, against %zu whole\n", saves, total,
		      (size_t)saves * whole);
	assert_int_equal(events_restored(dir, "shop-availability", &log) > 0, 1);
	free(log);
	state_journal__free(&j);
	slo_registry__free(reg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(save_then_load_restores_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(restored_counters_start_at_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_file_starts_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(truncated_file_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(flipped_byte_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_magic_or_version_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(inconsistent_lengths_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(oversized_file_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_record_starts_that_slo_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(changed_objective_starts_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(removed_slo_ignored_added_slo_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(changed_grpc_codes_start_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(changed_definition_starts_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(keys_without_definition_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(save_leaves_no_temporary_file, setup, teardown),
		cmocka_unit_test(carry_over_matches_as_a_restart),
		cmocka_unit_test_setup_teardown(save_empty_registry, setup, teardown),
		cmocka_unit_test_setup_teardown(save_into_missing_dir_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(default_copies_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(default_copies_that_no_longer_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(file_without_copies_loads_with_defaults, setup,
						teardown),
		cmocka_unit_test_setup_teardown(damaged_files_keep_the_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(unsafe_state_dir_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(links_in_the_dir_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(clock_back_restores, setup, teardown),
		cmocka_unit_test(snapshot_hash_tells_changes),
		cmocka_unit_test_setup_teardown(killed_mid_save_keeps_a_whole_file, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_saves_only_what_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_torn_or_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_that_does_not_add_up, setup, teardown),
		cmocka_unit_test_setup_teardown(journal_compacts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

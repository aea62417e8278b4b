// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fuzz target: the SLO state file loader (state__load), on a file that
 * a crash, a disk or someone with write access to the state directory
 * damaged. Byte 0 says which checksums the target makes right before the
 * file is read (bit 0: each record's engine state, bit 1: the file's), so
 * that changes reach the checks behind them; the rest is the file.
 *
 * Checked: it never refuses to start (0); the file is either kept
 * (accepted) or moved aside, with one log line saying which; every SLO's
 * state is consistent; and what was restored survives a save and a load
 * (state__carry_over) unchanged, SLO for SLO.
 *
 * FUZZ_STATE_SEEDS=DIR build/tests/fuzz-replay-state writes the seeds:
 * files saved after an hour of traffic (tests/fuzz/corpus/state).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "config.h"
#include "fuzz.h"
#include "slo.h"
#include "slo_registry.h"
#include "state.h"
#include "util.h"

const char fuzz_target_name[] = "state";

#define T0		1767225600ULL	/* 2026-01-01T00:00:00Z */
#define T_SAVE		(T0 + 3600)
#define NOW		(T0 + 4000)
#define MS		1000000ULL
#define HEADER_LEN	24		/* magic, version, count, saved_at */

/* Every kind of SLO the engine has, and default ones with their copies. */
static const char config_yaml[] =
	"services:\n"
	"  - {name: shop, match: {port: 8080}}\n"
	"  - {name: billing, match: {port: 8081}}\n"
	"slos:\n"
	"  - {name: shop-avail, service: shop, endpoint: \"GET /a\", sli: availability,\n"
	"     objective: 99, window: 2h}\n"
	"  - {name: shop-latency, service: shop, sli: latency, threshold: 300ms, objective: 95,\n"
	"     window: 1h, budgeting: timeslices}\n"
	"  - {name: billing-week, service: billing, sli: availability, objective: 90,\n"
	"     window: week}\n"
	"default_slos:\n"
	"  - {name: d-avail, sli: availability, objective: 99, window: 30m}\n"
	"  - {name: d-latency, sli: latency, threshold: 100ms, objective: 90, window: 10m,\n"
	"     budgeting: timeslices}\n"
	"max_default_slos: 4\n";

static struct slotap_config cfg;
static char dir[64], file[128], aside[160];
static int log_fd, stderr_fd;

static void write_seeds(const char *out);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];
	const char *base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";

	(void)argc;
	(void)argv;
	if (config__load_string(&cfg, config_yaml, sizeof(config_yaml) - 1, "fuzz", err,
				sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	/* tmpfs when there is one: state__save() fsyncs */
	snprintf(dir, sizeof(dir), "%s/slotap-fuzz-state.XXXXXX", base);
	if (!mkdtemp(dir))
		abort();
	snprintf(file, sizeof(file), "%s/%s", dir, STATE_FILE_NAME);
	/* each run removes it: always the first */
	snprintf(aside, sizeof(aside), "%s/%s.damaged-1", dir, STATE_FILE_NAME);
	/* the loader's log, read back; sanitizer reports still reach stderr */
	log_fd = memfd_create("fuzz-state-log", MFD_CLOEXEC);
	stderr_fd = dup(2);
	if (log_fd < 0 || stderr_fd < 0)
		abort();
	fuzz__keep_reports(stderr_fd);
	if (getenv("FUZZ_STATE_SEEDS")) {
		write_seeds(getenv("FUZZ_STATE_SEEDS"));
		exit(0);
	}
	return 0;
}

static struct slo_registry *new_registry(void)
{
	struct slo_registry *reg = slo_registry__new(&cfg, T0);

	FUZZ_CHECK(reg, "slo_registry__new: %s", strerror(errno));
	return reg;
}

/* An hour of traffic: explicit SLOs and default copies, good and bad. */
static void feed(struct slo_registry *reg)
{
	static const char *const routes[] = { "/a", "/b", "/c/{id}", "/d" };

	for (__u64 t = T0 + 10; t <= T_SAVE; t += 60) {
		for (size_t r = 0; r < 4; r++) {
			slo_registry__record(reg, "shop", "GET", routes[r], t % 600 ? 200 : 503,
					     (t % 7) * 100 * MS, t);
			slo_registry__record(reg, "billing", "POST", routes[r],
					     t % 300 == 10 ? 500 : 201, MS * r, t);
		}
	}
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size && !close(fd),
		   "%s: %s", path, strerror(errno));
}

/* Seeds: a state saved after traffic, as is and with byte 0 asking for the fix-ups. */
static void write_seeds(const char *out)
{
	struct slo_registry *reg = new_registry();
	char path[256];
	uint8_t *buf;
	struct stat st;
	int fd;

	feed(reg);
	FUZZ_CHECK(!state__save(reg, dir, T_SAVE), "state__save");
	slo_registry__free(reg);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0 && !fstat(fd, &st), "%s", file);
	buf = malloc(st.st_size + 1);
	FUZZ_CHECK(buf && read(fd, buf + 1, st.st_size) == st.st_size, "read");
	close(fd);
	for (int mode = 0; mode < 4; mode += 3) {
		buf[0] = mode;
		snprintf(path, sizeof(path), "%s/saved-%s", out, mode ? "fixups" : "as-is");
		write_file(path, buf, st.st_size + 1);
	}
	/* no record at all */
	buf[0] = 2;
	le32_put(buf + 1 + 12, 0);
	snprintf(path, sizeof(path), "%s/no-records", out);
	write_file(path, buf, 1 + HEADER_LEN + 8);
	free(buf);
	unlink(file);
}

/* The checksums the mode asks for, made right: the records' (where they add up), the file's. */
static void fix_checksums(uint8_t *buf, size_t len, uint8_t mode)
{
	uint8_t *p = buf + HEADER_LEN, *end = buf + len - 8;

	if (len < HEADER_LEN + 8)
		return;
	for (__u32 i = 0, n = le32_get(buf + 12); (mode & 1) && i < n; i++) {
		size_t name_len, blob_len;

		if (end - p < 2)
			break;
		name_len = le16_get(p);
		if ((size_t)(end - p) < 2 + name_len + 4)
			break;
		blob_len = le32_get(p + 2 + name_len);
		p += 2 + name_len + 4;
		if ((size_t)(end - p) < blob_len)
			break;
		if (blob_len >= 8)
			le64_put(p + blob_len - 8, fnv1a64(FNV1A64_OFFSET, p, blob_len - 8));
		p += blob_len;
	}
	if (mode & 2)
		le64_put(end, fnv1a64(FNV1A64_OFFSET, buf, len - 8));
}

/* What stderr got during the call: the loader's log. */
static size_t read_log(char *out, size_t cap)
{
	ssize_t n = pread(log_fd, out, cap - 1, 0);

	FUZZ_CHECK(n >= 0, "pread: %s", strerror(errno));
	out[n] = '\0';
	return n;
}

static void check_status(const struct slo_registry *reg, size_t i, struct slo_status *st)
{
	slo__status(slo_registry__engine(reg, i), NOW, st);
	FUZZ_CHECK(st->good_total <= st->events_total && st->late_events_total <= st->events_total &&
		   st->window_good <= st->window_total,
		   "SLO %s: good %llu of %llu, window %llu of %llu",
		   slo_registry__config(reg, i)->name, (unsigned long long)st->good_total,
		   (unsigned long long)st->events_total, (unsigned long long)st->window_good,
		   (unsigned long long)st->window_total);
	FUZZ_CHECK(!(st->sli < 0 || st->sli > 1) && !(st->budget_remaining > 1),
		   "SLO %s: sli %g, budget %g", slo_registry__config(reg, i)->name, st->sli,
		   st->budget_remaining);
}

static size_t find(const struct slo_registry *reg, const struct slo_registry *in, size_t i)
{
	for (size_t j = 0; j < slo_registry__count(in); j++) {
		if (!strcmp(slo_registry__config(reg, i)->name, slo_registry__config(in, j)->name) &&
		    !strcmp(slo_registry__service(reg, i), slo_registry__service(in, j)) &&
		    !strcmp(slo_registry__endpoint(reg, i), slo_registry__endpoint(in, j)))
			return j;
	}
	fuzz__fail(__FILE__, __LINE__, "find", "SLO %s (%s, %s) not carried over",
		   slo_registry__config(reg, i)->name, slo_registry__service(reg, i),
		   slo_registry__endpoint(reg, i));
}

/* What was restored, saved and loaded again: the same, SLO for SLO. */
static void check_round_trip(const struct slo_registry *reg)
{
	struct slo_registry *again = new_registry();
	struct state_restored carried;
	size_t n = slo_registry__count(reg);

	FUZZ_CHECK(!state__carry_over(again, reg, NOW, &carried), "state__carry_over");
	FUZZ_CHECK(carried.explicit == cfg.n_slos && carried.explicit + carried.defaults == n &&
		   !carried.fresh && slo_registry__count(again) == n,
		   "carried %zu + %zu of %zu, %zu fresh", carried.explicit, carried.defaults, n,
		   carried.fresh);
	for (size_t i = 0; i < n; i++) {
		struct slo_status a, b;

		check_status(reg, i, &a);
		slo__status(slo_registry__engine(again, find(reg, again, i)), NOW, &b);
		/* the same counts through the same arithmetic: bit for bit */
		FUZZ_CHECK(a.good_total == b.good_total && a.events_total == b.events_total &&
			   a.window_good == b.window_good && a.window_total == b.window_total &&
			   !memcmp(&a.budget_remaining, &b.budget_remaining, sizeof(double)),
			   "SLO %s changed in a save and load", slo_registry__config(reg, i)->name);
	}
	slo_registry__free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slo_registry *reg;
	char log[4096], prefix[256], *last;
	bool kept, set_aside;
	size_t restored, n;
	uint8_t *buf;
	int ret;

	if (!size)
		return 0;
	buf = malloc(size);
	FUZZ_CHECK(buf, "out of memory");
	memcpy(buf, data + 1, size - 1);
	fix_checksums(buf, size - 1, data[0]);
	write_file(file, buf, size - 1);
	free(buf);

	reg = new_registry();
	/* fd 2 shares the offset: both start again at 0 */
	FUZZ_CHECK(!ftruncate(log_fd, 0) && !lseek(log_fd, 0, SEEK_SET), "ftruncate");
	fflush(stderr);
	dup2(log_fd, 2);
	ret = state__load(reg, dir, NOW, &restored);
	fflush(stderr);
	dup2(stderr_fd, 2);
	n = read_log(log, sizeof(log));

	FUZZ_CHECK(!ret, "state__load: %d", ret);
	kept = !access(file, F_OK);
	set_aside = !access(aside, F_OK);
	FUZZ_CHECK(kept != set_aside, "file %s, %s", kept ? "kept" : "gone",
		   set_aside ? "and set aside" : "not set aside");
	/*
	 * One line saying which: a damaged file's warning alone; the restore's
	 * last, after what the registry says of the copies it left out
	 */
	FUZZ_CHECK(n && log[n - 1] == '\n', "log: \"%s\"", log);
	last = log + n - 1;
	while (last > log && last[-1] != '\n')
		last--;
	FUZZ_CHECK(!set_aside || last == log, "damaged, and more than one line: \"%s\"", log);
	snprintf(prefix, sizeof(prefix), set_aside ? "slotap: warning: %s/%s: "
		 : "slotap: restored ", dir, STATE_FILE_NAME);
	FUZZ_CHECK(!strncmp(last, prefix, strlen(prefix)), "log: \"%s\"", log);
	FUZZ_CHECK(!set_aside || !restored, "%zu restored from a damaged file", restored);
	FUZZ_CHECK(restored <= slo_registry__count(reg), "%zu restored of %zu", restored,
		   slo_registry__count(reg));
	check_round_trip(reg);
	slo_registry__free(reg);
	unlink(file);
	unlink(aside);
	return 0;
}

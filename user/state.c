// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "config.h"
#include "log.h"
#include "slo.h"
#include "slo_registry.h"
#include "state.h"
#include "util.h"

#define STATE_MAGIC		"SLOTAPST"
#define STATE_MAGIC_LEN		8
#define STATE_HEADER_LEN	(STATE_MAGIC_LEN + 4 + 4 + 8)
#define STATE_TRAILER_LEN	8
#define STATE_RECORD_MIN	(2 + 4)
#define STATE_TMP_NAME		"." STATE_FILE_NAME ".tmp"

#define KEY_SEP			'\x1f'
/* Ends a key: DEF_SEP and 16 hex digits, the SLO's definition_hash(). */
#define DEF_SEP			'\x1e'
#define DEF_SUFFIX_LEN		17

/* A 31 d rolling SLO serializes to 216 + 16 x 1428 bytes, under its memory bound. */
_Static_assert((unsigned long long)CONFIG_MAX_SLOS * (2 + CONFIG_NAME_MAX + 4 + SLO_MEM_MAX_BYTES) +
	       (unsigned long long)CONFIG_MAX_SLOS * (2 + STATE_KEY_MAX + 4 + SLO_MEM_MAX_BYTES) +
	       STATE_HEADER_LEN + STATE_TRAILER_LEN <= STATE_FILE_MAX,
	       "STATE_FILE_MAX must hold the largest valid config's state");

/* The output file, checksummed as it is written. */
struct state_writer {
	int fd;
	__u64 hash;
	size_t written;
};

static int writer__write(struct state_writer *w, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	w->hash = fnv1a64(w->hash, p, len);
	w->written += len;
	if (w->written > STATE_FILE_MAX)
		return -EFBIG;	/* load would refuse it: keep the old file instead */
	while (len) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * What an SLO counts good and bad beyond its spec (which the engine checks
 * itself): its SLI and threshold, bad statuses, failures, and for a
 * configured SLO what it is about (a default copy's key says that). State
 * saved under another definition starts fresh rather than mix two SLIs.
 */
static __u64 definition_hash(const struct slo_config *sc, const char *service,
			     const char *endpoint)
{
	__u8 flags[3] = { sc->sli, slo_config__counts_failures(sc), sc->dependency };
	__u64 h = FNV1A64_OFFSET;

	h = fnv1a64(h, flags, sizeof(flags));
	h = fnv1a64(h, (const unsigned char *)&sc->threshold_ns, sizeof(sc->threshold_ns));
	h = fnv1a64(h, sc->bad_status, sizeof(sc->bad_status));
	if (service)
		h = fnv1a64(h, (const unsigned char *)service, strlen(service) + 1);
	if (endpoint)
		h = fnv1a64(h, (const unsigned char *)endpoint, strlen(endpoint) + 1);
	return h;
}

static __u64 entry_definition(const struct slo_registry *reg, size_t i)
{
	if (slo_registry__is_default(reg, i))
		return definition_hash(slo_registry__config(reg, i), NULL, NULL);
	return definition_hash(slo_registry__config(reg, i), slo_registry__service(reg, i),
			       slo_registry__endpoint(reg, i));
}

/* The record key of SLO i: see state.h. */
static size_t state__key_len(const struct slo_registry *reg, size_t i)
{
	size_t len = strlen(slo_registry__config(reg, i)->name) + DEF_SUFFIX_LEN;

	if (slo_registry__is_default(reg, i))
		len += 1 + strlen(slo_registry__service(reg, i)) + 1 +
		       strlen(slo_registry__endpoint(reg, i));
	return len;
}

static void state__key(const struct slo_registry *reg, size_t i, unsigned char *out)
{
	const char *parts[3] = { slo_registry__config(reg, i)->name,
				 slo_registry__service(reg, i), slo_registry__endpoint(reg, i) };
	int n = slo_registry__is_default(reg, i) ? 3 : 1;
	char hex[DEF_SUFFIX_LEN + 1];

	for (int k = 0; k < n; k++) {
		size_t l = strlen(parts[k]);

		if (k)
			*out++ = KEY_SEP;
		memcpy(out, parts[k], l);
		out += l;
	}
	snprintf(hex, sizeof(hex), "%c%016llx", DEF_SEP,
		 (unsigned long long)entry_definition(reg, i));
	memcpy(out, hex, DEF_SUFFIX_LEN);
}

/* Writes header, records and trailer to w->fd. 0 or -errno. */
static int state__write_records(const struct slo_registry *reg, struct state_writer *w)
{
	unsigned char hdr[STATE_HEADER_LEN], trailer[STATE_TRAILER_LEN];
	size_t count = slo_registry__count(reg), cap = 0, saved = 0;
	unsigned char *rec = NULL;
	time_t now = time(NULL);
	int err = 0;

	for (size_t i = 0; i < count; i++)
		saved += state__key_len(reg, i) <= STATE_KEY_MAX;
	if (saved > UINT32_MAX)
		return -EOVERFLOW;
	memcpy(hdr, STATE_MAGIC, STATE_MAGIC_LEN);
	le32_put(hdr + 8, STATE_FILE_VERSION);
	le32_put(hdr + 12, saved);
	/* informational only (the log line on load): a broken clock is not fatal */
	le64_put(hdr + 16, now == (time_t)-1 ? 0 : (__u64)now);
	err = writer__write(w, hdr, sizeof(hdr));

	for (size_t i = 0; !err && i < count; i++) {
		const struct slo *e = slo_registry__engine(reg, i);
		size_t name_len = state__key_len(reg, i), len;
		int need;

		if (name_len > STATE_KEY_MAX) {
			/* names are short: only a default copy of a very long route */
			log__debug("SLO %s of %s %.64s...: key longer than %d bytes, not saved",
				   slo_registry__config(reg, i)->name,
				   slo_registry__service(reg, i), slo_registry__endpoint(reg, i),
				   STATE_KEY_MAX);
			continue;
		}
		need = slo__serialize(e, NULL, 0);
		if (need < 0) {
			err = need;
			break;
		}
		len = 2 + name_len + 4 + (size_t)need;
		if (len > cap) {
			unsigned char *tmp = realloc(rec, len);

			if (!tmp) {
				err = -ENOMEM;
				break;
			}
			rec = tmp;
			cap = len;
		}
		le16_put(rec, name_len);
		state__key(reg, i, rec + 2);
		le32_put(rec + 2 + name_len, need);
		if (slo__serialize(e, rec + 6 + name_len, need) != need) {
			err = -EINVAL;
			break;
		}
		err = writer__write(w, rec, len);
	}
	free(rec);
	if (err)
		return err;
	le64_put(trailer, w->hash);
	return writer__write(w, trailer, sizeof(trailer));
}

int state__save(const struct slo_registry *reg, const char *dir)
{
	struct state_writer w = { .fd = -1, .hash = FNV1A64_OFFSET };
	int dfd, err;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	/* O_TRUNC: a temporary file left by a crash mid-save is just overwritten */
	w.fd = openat(dfd, STATE_TMP_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		      0600);
	if (w.fd < 0) {
		err = -errno;
		goto out_dir;	/* not ours to remove */
	}
	err = state__write_records(reg, &w);
	/* the data must be on disk before the rename makes it the state */
	if (!err && fsync(w.fd))
		err = -errno;
	/* close() reports delayed write errors on some file systems */
	if (close(w.fd) && !err)
		err = -errno;
	if (!err && renameat(dfd, STATE_TMP_NAME, dfd, STATE_FILE_NAME))
		err = -errno;
	if (err) {
		unlinkat(dfd, STATE_TMP_NAME, 0);
		goto out_dir;
	}
	/* and the rename itself, or a crash may bring back the previous file */
	if (fsync(dfd))
		err = -errno;
out_dir:
	close(dfd);
	return err;
}

/* One record of a file, pointing into the file's buffer. */
struct state_record {
	const char *name;	/* the key without its definition suffix */
	size_t name_len;
	const unsigned char *blob;
	size_t blob_len;
	__u64 definition;	/* definition_hash(), if has_definition */
	bool has_definition;	/* files from before it have none: taken as is */
};

/* Splits a key's definition suffix off, if it has one. */
static void record_split(struct state_record *r)
{
	char hex[DEF_SUFFIX_LEN];
	char *end;

	if (r->name_len < DEF_SUFFIX_LEN || r->name[r->name_len - DEF_SUFFIX_LEN] != DEF_SEP)
		return;
	memcpy(hex, r->name + r->name_len - DEF_SUFFIX_LEN + 1, DEF_SUFFIX_LEN - 1);
	hex[DEF_SUFFIX_LEN - 1] = '\0';
	r->definition = strtoull(hex, &end, 16);
	if (*end)
		return;	/* not ours: the whole key is the name */
	r->has_definition = true;
	r->name_len -= DEF_SUFFIX_LEN;
}

static bool record_matches(const struct state_record *r, __u64 definition)
{
	return !r->has_definition || r->definition == definition;
}

static int record_cmp(const void *a, const void *b)
{
	const struct state_record *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);

	if (c)
		return c;
	return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/*
 * Checks the whole file before anything is restored, so a damaged file
 * restores nothing rather than a mix. Returns NULL with the records in
 * *recs (sorted by name, for lookup), or why the file is damaged (*recs
 * NULL, *nomem set when that is the reason).
 */
static const char *state__parse(const unsigned char *buf, size_t len, char *why, size_t why_len,
				struct state_record **recs, size_t *n_recs, __u64 *saved_at,
				bool *nomem)
{
	const unsigned char *p, *end;
	struct state_record *r;
	__u32 version, count, i;

	*recs = NULL;
	*n_recs = 0;
	*nomem = false;
	if (len < STATE_HEADER_LEN + STATE_TRAILER_LEN) {
		snprintf(why, why_len, "%zu bytes, shorter than an empty state (%d): truncated",
			 len, STATE_HEADER_LEN + STATE_TRAILER_LEN);
		return why;
	}
	if (memcmp(buf, STATE_MAGIC, STATE_MAGIC_LEN))
		return "bad magic: not a slotap state file";
	version = le32_get(buf + 8);
	if (version != STATE_FILE_VERSION) {
		snprintf(why, why_len, "version %u, this agent reads version %d", version,
			 STATE_FILE_VERSION);
		return why;
	}
	count = le32_get(buf + 12);
	*saved_at = le64_get(buf + 16);

	/* every length against what is left, before the checksum: it names truncation */
	p = buf + STATE_HEADER_LEN;
	end = buf + len - STATE_TRAILER_LEN;
	for (i = 0; i < count; i++) {
		size_t name_len, blob_len;

		if ((size_t)(end - p) < 2) {
			snprintf(why, why_len, "record %u of %u past the end: truncated or damaged",
				 i + 1, count);
			return why;
		}
		name_len = le16_get(p);
		p += 2;
		if ((size_t)(end - p) < name_len + 4) {
			snprintf(why, why_len,
				 "record %u of %u: name runs past the end: truncated or damaged",
				 i + 1, count);
			return why;
		}
		p += name_len;
		blob_len = le32_get(p);
		p += 4;
		if ((size_t)(end - p) < blob_len) {
			snprintf(why, why_len,
				 "record %u of %u: %zu-byte state runs past the end: truncated or damaged",
				 i + 1, count, blob_len);
			return why;
		}
		p += blob_len;
	}
	if (p != end) {
		snprintf(why, why_len, "%zu bytes after the last of %u records", (size_t)(end - p),
			 count);
		return why;
	}
	if (le64_get(end) != fnv1a64(FNV1A64_OFFSET, buf, len - STATE_TRAILER_LEN))
		return "checksum mismatch: corrupted";

	/* count <= len / STATE_RECORD_MIN now: the allocation is bounded by the file */
	r = calloc(count ? count : 1, sizeof(*r));
	if (!r) {
		*nomem = true;
		return "out of memory";
	}
	p = buf + STATE_HEADER_LEN;
	for (i = 0; i < count; i++) {
		r[i].name_len = le16_get(p);
		r[i].name = (const char *)p + 2;
		p += 2 + r[i].name_len;
		r[i].blob_len = le32_get(p);
		r[i].blob = p + 4;
		p += 4 + r[i].blob_len;
		record_split(&r[i]);
	}
	qsort(r, count, sizeof(*r), record_cmp);
	/* our writer never writes a name twice: which one would be right? */
	for (i = 1; i < count; i++) {
		if (!record_cmp(&r[i - 1], &r[i])) {
			snprintf(why, why_len, "SLO \"%.*s\" twice", (int)(r[i].name_len < 64 ?
				 r[i].name_len : 64), r[i].name);
			free(r);
			return why;
		}
	}
	*recs = r;
	*n_recs = count;
	return NULL;
}

/*
 * Moves a damaged file aside, to look at later and so the next start does
 * not trip on it again, and says so in one line.
 */
static void state__set_aside(int dfd, const char *dir, __u64 now_s, const char *why)
{
	char aside[sizeof(STATE_FILE_NAME) + sizeof(".damaged-") + 20];

	snprintf(aside, sizeof(aside), "%s.damaged-%llu", STATE_FILE_NAME,
		 (unsigned long long)now_s);
	if (renameat(dfd, STATE_FILE_NAME, dfd, aside))
		log__warn("%s/%s: %s; could not move it aside to %s: %s; starting all SLOs fresh",
			  dir, STATE_FILE_NAME, why, aside, strerror(errno));
	else
		log__warn("%s/%s: %s; moved aside to %s; starting all SLOs fresh",
			  dir, STATE_FILE_NAME, why, aside);
}

/*
 * Reads the whole file into *buf. Returns 0, -ENOMEM, or another -errno
 * with a warning already logged. A file larger than STATE_FILE_MAX gives
 * -EFBIG, not logged: it is damaged, the caller sets it aside.
 */
static int state__read_file(int fd, const char *dir, unsigned char **buf, size_t *len)
{
	struct stat st;
	size_t size, got = 0;
	unsigned char *b;

	*buf = NULL;
	*len = 0;
	if (fstat(fd, &st)) {
		int err = -errno;

		log__warn("%s/%s: %s; starting all SLOs fresh", dir, STATE_FILE_NAME,
			  strerror(-err));
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		log__warn("%s/%s: not a regular file; starting all SLOs fresh", dir,
			  STATE_FILE_NAME);
		return -EINVAL;
	}
	if (st.st_size > STATE_FILE_MAX)
		return -EFBIG;
	size = st.st_size;
	b = malloc(size ? size : 1);
	if (!b)
		return -ENOMEM;
	/* a file that shrank meanwhile reads short: the parser calls it truncated */
	while (got < size) {
		ssize_t n = read(fd, b + got, size - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log__warn("%s/%s: %s; starting all SLOs fresh", dir, STATE_FILE_NAME,
				  strerror(errno));
			free(b);
			return -EIO;
		}
		if (n == 0)
			break;
		got += n;
	}
	*buf = b;
	*len = got;
	return 0;
}

/* The configured SLOs of the registry from parsed records. 0 or -ENOMEM. */
static int state__restore(struct slo_registry *reg, const struct state_record *recs, size_t n_recs,
			  __u64 now_s, size_t *restored, size_t *fresh)
{
	size_t count = slo_registry__count(reg);

	for (size_t i = 0; i < count; i++) {
		const char *name = slo_registry__config(reg, i)->name;
		struct state_record key = { .name = name, .name_len = strlen(name) };
		const struct state_record *r;
		struct slo_spec spec;
		struct slo *e;

		if (slo_registry__is_default(reg, i))
			continue;	/* made by state__restore_defaults() */
		r = bsearch(&key, recs, n_recs, sizeof(*recs), record_cmp);
		if (!r) {
			log__debug("SLO %s: not in the saved state (new), starting fresh", name);
			continue;
		}
		if (!record_matches(r, entry_definition(reg, i))) {
			log__debug("SLO %s: what it counts changed, starting fresh", name);
			(*fresh)++;
			continue;
		}
		slo_registry__spec(reg, i, &spec);
		e = slo__deserialize(&spec, r->blob, r->blob_len, now_s);
		if (!e) {
			if (errno == ENOMEM)
				return -ENOMEM;
			/* its objective or window changed, or the record does not check out */
			log__debug("SLO %s: saved state does not match its spec, starting fresh",
				   name);
			(*fresh)++;
			continue;
		}
		slo_registry__replace(reg, i, e);
		(*restored)++;
	}
	return 0;
}

/*
 * One default copy's record: key NAME \x1f SERVICE \x1f ENDPOINT. 1 when
 * restored, 0 when left out, -ENOMEM.
 */
static int state__restore_default(struct slo_registry *reg, const struct state_record *r,
				  __u64 now_s, size_t *fresh)
{
	char key[STATE_KEY_MAX + 1], *service, *endpoint;
	const struct slo_config *tmpl;
	struct slo_spec spec;
	struct slo *e;
	int err;

	if (r->name_len > STATE_KEY_MAX || memchr(r->name, '\0', r->name_len))
		return 0;	/* not one this agent writes */
	memcpy(key, r->name, r->name_len);
	key[r->name_len] = '\0';
	service = strchr(key, KEY_SEP);
	endpoint = service ? strchr(service + 1, KEY_SEP) : NULL;
	if (!endpoint)
		return 0;
	*service++ = '\0';
	*endpoint++ = '\0';
	tmpl = slo_registry__default_spec(reg, key, &spec);
	if (!tmpl) {
		log__debug("default SLO %s (%s, %s): no longer configured, left out", key,
			   service, endpoint);
		return 0;
	}
	if (!record_matches(r, definition_hash(tmpl, NULL, NULL))) {
		log__debug("default SLO %s (%s, %s): what it counts changed, starting fresh",
			   key, service, endpoint);
		(*fresh)++;
		return 0;
	}
	e = slo__deserialize(&spec, r->blob, r->blob_len, now_s);
	if (!e) {
		if (errno == ENOMEM)
			return -ENOMEM;
		log__debug("default SLO %s (%s, %s): saved state does not match its spec, "
			   "starting fresh", key, service, endpoint);
		(*fresh)++;
		return 0;
	}
	err = slo_registry__adopt_default(reg, key, service, endpoint, e, now_s);
	if (!err)
		return 1;
	slo__free(e);
	if (err == -ENOMEM)
		return -ENOMEM;
	log__debug("default SLO %s (%s, %s): %s, left out", key, service, endpoint,
		   err == -ENOENT ? "an explicit SLO covers the endpoint now"
		   : err == -ENOSPC ? "max_default_slos reached" : "not an endpoint");
	return 0;
}

/* Every default copy saved, its endpoint set up as if seen. 0 or -ENOMEM. */
static int state__restore_defaults(struct slo_registry *reg, const struct state_record *recs,
				   size_t n_recs, __u64 now_s, size_t *restored, size_t *fresh)
{
	for (size_t i = 0; i < n_recs; i++) {
		int ret;

		if (!memchr(recs[i].name, KEY_SEP, recs[i].name_len))
			continue;	/* a configured SLO's */
		ret = state__restore_default(reg, &recs[i], now_s, fresh);
		if (ret < 0)
			return ret;
		*restored += ret;
	}
	return 0;
}

/*
 * The records of buf restored into reg. 0 or -ENOMEM; *why is NULL, or says
 * why buf is damaged (nothing restored).
 */
static int state__apply(struct slo_registry *reg, const unsigned char *buf, size_t len,
			__u64 now_s, struct state_restored *out, char *why_buf, size_t why_len,
			const char **why)
{
	struct state_record *recs;
	size_t n_recs, restored = 0;
	bool nomem;
	int err;

	*out = (struct state_restored){ .configured = slo_registry__count(reg) };
	*why = state__parse(buf, len, why_buf, why_len, &recs, &n_recs, &out->saved_at, &nomem);
	if (*why) {
		if (!nomem)
			return 0;
		*why = NULL;
		return -ENOMEM;
	}
	err = state__restore(reg, recs, n_recs, now_s, &restored, &out->fresh);
	out->explicit = restored;
	if (!err)
		err = state__restore_defaults(reg, recs, n_recs, now_s, &restored, &out->fresh);
	out->defaults = restored - out->explicit;
	free(recs);
	return err;
}

int state__load(struct slo_registry *reg, const char *dir, __u64 now_s, size_t *n_restored)
{
	struct state_restored r;
	unsigned char *buf = NULL;
	const char *why;
	char why_buf[160];
	size_t len;
	int dfd, fd, err;

	*n_restored = 0;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		/* no state yet; state__save() will report a directory that is really missing */
		if (errno != ENOENT)
			log__warn("%s: %s; starting all SLOs fresh", dir, strerror(errno));
		return 0;
	}
	/* O_NONBLOCK: a FIFO in its place must not hang the start */
	fd = openat(dfd, STATE_FILE_NAME, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			log__warn("%s/%s: %s; starting all SLOs fresh", dir, STATE_FILE_NAME,
				  strerror(errno));
		err = 0;
		goto out_dir;
	}
	err = state__read_file(fd, dir, &buf, &len);
	close(fd);
	if (err == -EFBIG) {
		snprintf(why_buf, sizeof(why_buf), "larger than the %u MiB limit",
			 STATE_FILE_MAX >> 20);
		state__set_aside(dfd, dir, now_s, why_buf);
		err = 0;
		goto out_dir;
	}
	if (err) {
		err = err == -ENOMEM ? -ENOMEM : 0;
		goto out_dir;
	}
	err = state__apply(reg, buf, len, now_s, &r, why_buf, sizeof(why_buf), &why);
	if (why) {
		state__set_aside(dfd, dir, now_s, why);
		err = 0;
	} else if (!err) {
		log__info("restored %zu of %zu SLOs and %zu default SLO copies from %s/%s "
			  "saved at %llu; %zu changed spec and start fresh", r.explicit,
			  r.configured, r.defaults, dir, STATE_FILE_NAME,
			  (unsigned long long)r.saved_at, r.fresh);
	}
	*n_restored = r.explicit + r.defaults;
	free(buf);
out_dir:
	close(dfd);
	return err;
}

int state__carry_over(struct slo_registry *to, const struct slo_registry *from, __u64 now_s,
		      struct state_restored *carried)
{
	struct state_writer w = { .hash = FNV1A64_OFFSET };
	unsigned char *buf = NULL;
	const char *why;
	char why_buf[160];
	size_t len;
	int err;

	*carried = (struct state_restored){ .configured = slo_registry__count(to) };
	/* the very bytes a restart would read: a reload matches SLOs as it does */
	w.fd = memfd_create("slotap-slo-state", MFD_CLOEXEC);
	if (w.fd < 0)
		return -errno;
	err = state__write_records(from, &w);
	if (!err && lseek(w.fd, 0, SEEK_SET))
		err = -errno;
	if (!err)
		err = state__read_file(w.fd, "<memory>", &buf, &len);
	close(w.fd);
	if (!err)
		err = state__apply(to, buf, len, now_s, carried, why_buf, sizeof(why_buf), &why);
	free(buf);
	if (!err && why)
		err = -EIO;	/* we wrote it ourselves a moment ago */
	return err;
}

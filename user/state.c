// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
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
#include <sys/stat.h>
#include "config.h"
#include "grpc.h"
#include "log.h"
#include "slo.h"
#include "slo_registry.h"
#include "state.h"
#include "state_journal.h"
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

/*
 * Room for len more bytes at the end of the image. NULL: -EFBIG (load
 * would refuse the file: the old one is kept instead) or -ENOMEM in *err.
 */
static unsigned char *image__extend(struct state_image *img, size_t len, int *err)
{
	unsigned char *p;

	if (len > STATE_FILE_MAX - img->len) {
		*err = -EFBIG;
		return NULL;
	}
	if (img->len + len > img->cap) {
		size_t cap = img->cap ? img->cap : 4096;
		unsigned char *b;

		while (cap < img->len + len)
			cap = cap > STATE_FILE_MAX / 2 ? STATE_FILE_MAX : cap * 2;
		b = realloc(img->buf, cap);
		if (!b) {
			*err = -ENOMEM;
			return NULL;
		}
		img->buf = b;
		img->cap = cap;
	}
	p = img->buf + img->len;
	img->len += len;
	return p;
}

/*
 * What an SLO counts good and bad beyond its spec (which the engine checks
 * itself): its SLI and threshold, bad statuses and gRPC codes, failures, and for a
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
	/* only when not the default: the state saved before gRPC stays valid */
	if (sc->sli == SLO_SLI_AVAILABILITY && sc->bad_grpc_codes != GRPC_BAD_CODES_DEFAULT)
		h = fnv1a64(h, &sc->bad_grpc_codes, sizeof(sc->bad_grpc_codes));
	if (sc->streaming_include)
		h = fnv1a64(h, "streaming", 9);
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

/*
 * The whole file into img: header, records, trailer. Memory only, no
 * system call: callers hold the registry's lock meanwhile. 0 or -errno.
 */
static int state__write_records(const struct slo_registry *reg, __u64 now_s,
				struct state_image *img)
{
	size_t count = slo_registry__count(reg), saved = 0;
	unsigned char *p;
	int err = 0;

	for (size_t i = 0; i < count; i++)
		saved += state__key_len(reg, i) <= STATE_KEY_MAX;
	if (saved > UINT32_MAX)
		return -EOVERFLOW;
	p = image__extend(img, STATE_HEADER_LEN, &err);
	if (!p)
		return err;
	memcpy(p, STATE_MAGIC, STATE_MAGIC_LEN);
	le32_put(p + 8, STATE_FILE_VERSION);
	le32_put(p + 12, saved);
	/* for the log line on load and its clock check */
	le64_put(p + 16, now_s);

	for (size_t i = 0; i < count; i++) {
		const struct slo *e = slo_registry__engine(reg, i);
		size_t name_len = state__key_len(reg, i);
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
		if (need < 0)
			return need;
		p = image__extend(img, 2 + name_len + 4 + (size_t)need, &err);
		if (!p)
			return err;
		le16_put(p, name_len);
		state__key(reg, i, p + 2);
		le32_put(p + 2 + name_len, need);
		if (slo__serialize(e, p + 6 + name_len, need) != need)
			return -EINVAL;
	}
	p = image__extend(img, STATE_TRAILER_LEN, &err);
	if (!p)
		return err;
	le64_put(p, fnv1a64(FNV1A64_OFFSET, img->buf, img->len - STATE_TRAILER_LEN));
	return 0;
}

int state__snapshot(const struct slo_registry *reg, __u64 now_s, struct state_image *img)
{
	int err;

	img->len = 0;
	err = state__write_records(reg, now_s, img);
	if (err) {
		img->len = 0;
		return err;
	}
	/* what the SLOs hold, without the time of the snapshot */
	img->content_hash = fnv1a64(fnv1a64(FNV1A64_OFFSET, img->buf + STATE_MAGIC_LEN, 8),
				    img->buf + STATE_HEADER_LEN,
				    img->len - STATE_HEADER_LEN - STATE_TRAILER_LEN);
	return 0;
}

void state__image_free(struct state_image *img)
{
	free(img->buf);
	*img = (struct state_image){};
}

/* Opens dir, refusing one others could swap files in: see state.h. */
int state__open_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int dfd;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		int e = errno;
		struct stat lst;

		if ((e == ELOOP || e == ENOTDIR) && !lstat(dir, &lst) && S_ISLNK(lst.st_mode))
			snprintf(err, errlen, "state directory %s is a symlink: refused (give "
				 "--state-dir the real directory, owned by root, mode 0700)", dir);
		else
			snprintf(err, errlen, "state directory %s: %s", dir, strerror(e));
		return -e;
	}
	if (fstat(dfd, &st)) {
		int e = errno;

		snprintf(err, errlen, "state directory %s: %s", dir, strerror(e));
		close(dfd);
		return -e;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen, "state directory %s is %s: refused (chown %u %s && "
			 "chmod 0700 %s)", dir, st.st_uid != geteuid() ? "owned by another user"
			 : "writable by others", (unsigned)geteuid(), dir, dir);
		close(dfd);
		return -EPERM;
	}
	return dfd;
}

int state__check_dir(const char *dir, char *err, size_t errlen)
{
	int dfd;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		int e = errno;

		snprintf(err, errlen, "cannot create state directory %s: %s", dir, strerror(e));
		return -e;
	}
	dfd = state__open_dir(dir, err, errlen);
	if (dfd < 0)
		return dfd;
	close(dfd);
	return 0;
}

int state__write(const struct state_image *img, const char *dir, char *err, size_t errlen)
{
	int dfd, fd, ret;

	dfd = state__open_dir(dir, err, errlen);
	if (dfd < 0)
		return dfd;
	/*
	 * O_EXCL: never write through whatever is at that name; ours, left by
	 * a crash mid-save, goes first (only we can write the directory)
	 */
	if (unlinkat(dfd, STATE_TMP_NAME, 0) && errno != ENOENT) {
		ret = -errno;
		goto out_dir;
	}
	fd = openat(dfd, STATE_TMP_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		ret = -errno;
		goto out_dir;
	}
	ret = write_all(fd, img->buf, img->len);
	/* the data must be on disk before the rename makes it the state */
	if (!ret && fsync(fd))
		ret = -errno;
	/* close() reports delayed write errors on some file systems */
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && renameat(dfd, STATE_TMP_NAME, dfd, STATE_FILE_NAME))
		ret = -errno;
	if (ret) {
		unlinkat(dfd, STATE_TMP_NAME, 0);
		goto out_dir;
	}
	/* and the rename itself, or a crash may bring back the previous file */
	if (fsync(dfd))
		ret = -errno;
out_dir:
	if (ret && ret != -EPERM)
		snprintf(err, errlen, "%s/%s: %s", dir, STATE_FILE_NAME, strerror(-ret));
	close(dfd);
	return ret;
}

int state__save(const struct slo_registry *reg, const char *dir, __u64 now_s)
{
	struct state_image img = {};
	char err[256];
	int ret;

	ret = state__snapshot(reg, now_s, &img);
	if (!ret)
		ret = state__write(&img, dir, err, sizeof(err));
	state__image_free(&img);
	return ret;
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

#define DAMAGED_PREFIX	STATE_FILE_NAME ".damaged-"

/* N of a name DAMAGED_PREFIX N, or 0 when it is not one. */
static __u64 damaged_number(const char *name)
{
	const char *p = name + sizeof(DAMAGED_PREFIX) - 1;
	char *end;
	__u64 n;

	if (strncmp(name, DAMAGED_PREFIX, sizeof(DAMAGED_PREFIX) - 1) || *p < '1' || *p > '9')
		return 0;
	errno = 0;
	n = strtoull(p, &end, 10);
	return *end || errno ? 0 : n;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return (x > y) - (x < y);
}

static void damaged_unlink(int dfd, __u64 num)
{
	char name[sizeof(DAMAGED_PREFIX) + 20];

	snprintf(name, sizeof(name), DAMAGED_PREFIX "%llu", (unsigned long long)num);
	unlinkat(dfd, name, 0);
}

/*
 * The damaged files there, numbered; *next is one past the highest. With
 * keep: removes all but the keep newest. Numbers, not times: a clock that
 * steps cannot make the newest look oldest.
 */
static void damaged_scan(int dfd, size_t keep, __u64 *next)
{
	__u64 *nums = NULL, *tmp;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	*next = 1;
	fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		__u64 num = damaged_number(de->d_name);

		if (!num)
			continue;
		if (num >= *next)
			*next = num + 1;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			tmp = realloc(nums, cap * sizeof(*nums));
			if (!tmp)
				break;	/* removed next time */
			nums = tmp;
		}
		nums[n++] = num;
	}
	closedir(d);
	if (keep && n > keep) {
		qsort(nums, n, sizeof(*nums), cmp_u64);
		for (size_t i = 0; i + keep < n; i++)
			damaged_unlink(dfd, nums[i]);
	}
	free(nums);
}

/*
 * Moves a damaged file aside, to look at later and so the next start does
 * not trip on it again, and says so in one line. The STATE_DAMAGED_KEEP
 * newest are kept, as slo-state.bin.damaged-N (N counts up).
 */
static void state__set_aside(int dfd, const char *dir, const char *why)
{
	char aside[sizeof(DAMAGED_PREFIX) + 20];
	__u64 next;
	int err = 0;

	damaged_scan(dfd, 0, &next);
	snprintf(aside, sizeof(aside), DAMAGED_PREFIX "%llu", (unsigned long long)next);
	/* RENAME_NOREPLACE: one that appeared meanwhile is not overwritten */
	if (renameat2(dfd, STATE_FILE_NAME, dfd, aside, RENAME_NOREPLACE))
		err = errno;
	if (err) {
		log__warn("%s/%s: %s; could not move it aside to %s: %s; starting all SLOs fresh",
			  dir, STATE_FILE_NAME, why, aside, strerror(err));
		return;
	}
	damaged_scan(dfd, STATE_DAMAGED_KEEP, &next);
	log__warn("%s/%s: %s; moved aside to %s (the %d newest are kept); starting all SLOs "
		  "fresh", dir, STATE_FILE_NAME, why, aside, STATE_DAMAGED_KEEP);
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
	int ret = 0;

	slo_registry__restore_begin(reg);
	for (size_t i = 0; i < n_recs && ret >= 0; i++) {
		if (!memchr(recs[i].name, KEY_SEP, recs[i].name_len))
			continue;	/* a configured SLO's */
		ret = state__restore_default(reg, &recs[i], now_s, fresh);
		if (ret > 0)
			*restored += ret;
	}
	slo_registry__restore_end(reg, now_s);
	return ret < 0 ? ret : 0;
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

/*
 * A state saved after now: the clock went back since (set at boot before
 * NTP, a VM restored from a snapshot). The SLOs are restored all the same
 * (slo__clock()); this says what that means, once.
 */
static void state__clock_check(const char *dir, __u64 saved_at, __u64 now_s)
{
	__u64 ahead = saved_at - now_s;

	if (saved_at <= now_s || !saved_at)
		return;
	log__warn("%s/%s was saved %llu s after the clock's time now: the clock went back; "
		  "the SLOs keep their state and %s", dir, STATE_FILE_NAME,
		  (unsigned long long)ahead, ahead <= SLO_CLOCK_WAIT_MAX_S
		  ? "wait for the clock to catch up (events meanwhile count in their newest bucket)"
		  : "move their history back with the clock (every bucket keeps its age)");
}

int state__load(struct slo_registry *reg, const char *dir, __u64 now_s, size_t *n_restored)
{
	unsigned char *buf = NULL, *patched;
	struct state_restored r;
	const char *why;
	char why_buf[160];
	size_t len, batches;
	int dfd, fd, err;

	*n_restored = 0;
	dfd = state__open_dir(dir, why_buf, sizeof(why_buf));
	if (dfd < 0) {
		/* no state yet; the first save reports a directory that is really missing */
		if (dfd != -ENOENT)
			log__warn("%s; starting all SLOs fresh", why_buf);
		return 0;
	}
	/* O_NONBLOCK: a FIFO in its place must not hang the start; nor a link lead elsewhere */
	fd = openat(dfd, STATE_FILE_NAME, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
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
		state__set_aside(dfd, dir, why_buf);
		err = 0;
		goto out_dir;
	}
	if (err) {
		err = err == -ENOMEM ? -ENOMEM : 0;
		goto out_dir;
	}
	err = state_journal__patch(dfd, buf, len, &patched, &batches);
	if (err)
		goto out_buf;
	if (patched) {
		err = state__apply(reg, patched, len, now_s, &r, why_buf, sizeof(why_buf), &why);
		free(patched);
		if (!why)
			goto applied;
		/* nothing restored yet: the whole file was checked first */
		log__warn("%s/%s: %s once patched by %s (%zu saves): taking the last whole file",
			  dir, STATE_FILE_NAME, why, STATE_JOURNAL_NAME, batches);
	}
	err = state__apply(reg, buf, len, now_s, &r, why_buf, sizeof(why_buf), &why);
applied:
	if (why) {
		state__set_aside(dfd, dir, why);
		err = 0;
	} else if (!err) {
		/* before the summary, which stays the last line */
		state__clock_check(dir, r.saved_at, now_s);
		log__info("restored %zu of %zu SLOs and %zu default SLO copies from %s/%s "
			  "saved at %llu; %zu changed spec and start fresh", r.explicit,
			  r.configured, r.defaults, dir, STATE_FILE_NAME,
			  (unsigned long long)r.saved_at, r.fresh);
	}
	*n_restored = r.explicit + r.defaults;
out_buf:
	free(buf);
out_dir:
	close(dfd);
	return err;
}

int state__carry_over(struct slo_registry *to, const struct slo_registry *from, __u64 now_s,
		      struct state_restored *carried)
{
	struct state_image img = {};
	const char *why;
	char why_buf[160];
	int err;

	*carried = (struct state_restored){ .configured = slo_registry__count(to) };
	/* the very bytes a restart would read: a reload matches SLOs as it does */
	err = state__snapshot(from, now_s, &img);
	if (!err)
		err = state__apply(to, img.buf, img.len, now_s, carried, why_buf, sizeof(why_buf),
				   &why);
	state__image_free(&img);
	if (!err && why)
		err = -EIO;	/* we wrote it ourselves a moment ago */
	return err;
}

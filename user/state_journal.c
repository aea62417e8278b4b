// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Saving only the chunks of the state file that changed: see state_journal.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "state.h"
#include "state_journal.h"
#include "util.h"

#define JOURNAL_MAGIC		"SLOTAPJR"
#define JOURNAL_VERSION		1
#define JOURNAL_HEADER_LEN	(8 + 4 + 4 + 8)
#define BATCH_HEADER_LEN	(4 + 4)
#define PATCH_HEADER_LEN	(4 + 4)
#define BATCH_TRAILER_LEN	8

static size_t n_chunks(size_t len)
{
	return (len + STATE_JOURNAL_CHUNK - 1) / STATE_JOURNAL_CHUNK;
}

static __u64 chunk_hash(const unsigned char *buf, size_t len, size_t c)
{
	size_t off = c * STATE_JOURNAL_CHUNK, n = len - off;

	if (n > STATE_JOURNAL_CHUNK)
		n = STATE_JOURNAL_CHUNK;
	return fnv1a64(FNV1A64_OFFSET, buf + off, n);
}

void state_journal__free(struct state_journal *j)
{
	free(j->chunk);
	*j = (struct state_journal){};
}

/* Remembers img as the state on disk, written whole. */
static int remember_base(struct state_journal *j, const struct state_image *img)
{
	size_t n = n_chunks(img->len);
	__u64 *chunk = realloc(j->chunk, (n ? n : 1) * sizeof(*chunk));

	if (!chunk) {
		j->len = 0;
		return -ENOMEM;
	}
	j->chunk = chunk;
	for (size_t c = 0; c < n; c++)
		chunk[c] = chunk_hash(img->buf, img->len, c);
	j->len = img->len;
	j->base_len = img->len;
	j->journal_len = 0;
	j->base_id = le64_get(img->buf + img->len - 8);
	return 0;
}

/*
 * The batch of the chunks of img that differ from the state on disk,
 * neighbours merged into one patch. NULL with *err (-ENOMEM), or with
 * *len 0 when nothing differs.
 */
static unsigned char *batch_build(const struct state_journal *j, const struct state_image *img,
				  size_t *len, int *err)
{
	size_t n = n_chunks(img->len), cap = 0, used = BATCH_HEADER_LEN, patches = 0;
	unsigned char *b = NULL;

	*len = 0;
	for (size_t c = 0; c < n; ) {
		size_t end = c, off, plen;
		unsigned char *nb;

		while (end < n && chunk_hash(img->buf, img->len, end) != j->chunk[end])
			end++;
		if (end == c) {
			c++;
			continue;
		}
		off = c * STATE_JOURNAL_CHUNK;
		plen = (end * STATE_JOURNAL_CHUNK < img->len ? end * STATE_JOURNAL_CHUNK
							     : img->len) - off;
		if (used + PATCH_HEADER_LEN + plen + BATCH_TRAILER_LEN > cap) {
			cap = (used + PATCH_HEADER_LEN + plen + BATCH_TRAILER_LEN) * 2;
			nb = realloc(b, cap);
			if (!nb) {
				free(b);
				*err = -ENOMEM;
				return NULL;
			}
			b = nb;
		}
		le32_put(b + used, off);
		le32_put(b + used + 4, plen);
		memcpy(b + used + PATCH_HEADER_LEN, img->buf + off, plen);
		used += PATCH_HEADER_LEN + plen;
		patches++;
		c = end;
	}
	if (!patches)
		return NULL;
	le32_put(b, patches);
	le32_put(b + 4, used - BATCH_HEADER_LEN);
	le64_put(b + used, fnv1a64(FNV1A64_OFFSET, b, used));
	*len = used + BATCH_TRAILER_LEN;
	return b;
}

/* Appends one batch to the journal, made with its header if there is none. */
static int journal_append(struct state_journal *j, const char *dir, const unsigned char *batch,
			  size_t len, char *err, size_t errlen)
{
	unsigned char hdr[JOURNAL_HEADER_LEN];
	int dfd, fd, ret = 0;

	dfd = state__open_dir(dir, err, errlen);
	if (dfd < 0)
		return dfd;
	if (!j->journal_len) {
		/* a stale one (of an older base) may be there: ours, in our directory */
		if (unlinkat(dfd, STATE_JOURNAL_NAME, 0) && errno != ENOENT) {
			ret = -errno;
			goto out;
		}
		fd = openat(dfd, STATE_JOURNAL_NAME,
			    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			ret = -errno;
			goto out;
		}
		memcpy(hdr, JOURNAL_MAGIC, 8);
		le32_put(hdr + 8, JOURNAL_VERSION);
		le32_put(hdr + 12, STATE_JOURNAL_CHUNK);
		le64_put(hdr + 16, j->base_id);
		ret = write_all(fd, hdr, sizeof(hdr));
		if (!ret)
			j->journal_len = sizeof(hdr);
	} else {
		fd = openat(dfd, STATE_JOURNAL_NAME, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			goto out;
		}
	}
	if (!ret)
		ret = write_all(fd, batch, len);
	if (!ret && fdatasync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	/* a new journal's name must last too */
	if (!ret && j->journal_len == sizeof(hdr) && fsync(dfd))
		ret = -errno;
out:
	if (ret)
		snprintf(err, errlen, "%s/%s: %s", dir, STATE_JOURNAL_NAME, strerror(-ret));
	close(dfd);
	return ret;
}

int state_journal__save(struct state_journal *j, const struct state_image *img, const char *dir,
			char *err, size_t errlen, size_t *written)
{
	unsigned char *batch = NULL;
	size_t len = 0;
	int ret = 0;

	*written = 0;
	if (j->len && img->len == j->len) {
		batch = batch_build(j, img, &len, &ret);
		if (ret)
			goto fail;
		if (!batch)
			return 0;	/* the same bytes as on disk */
		/* a journal longer than the base costs more to replay than to rewrite */
		if (j->journal_len + len <= j->base_len) {
			ret = journal_append(j, dir, batch, len, err, errlen);
			if (ret)
				goto fail;
			for (size_t c = 0; c < n_chunks(img->len); c++)
				j->chunk[c] = chunk_hash(img->buf, img->len, c);
			j->journal_len += len;
			*written = len;
			free(batch);
			return 0;
		}
		free(batch);
		batch = NULL;
	}
	ret = state__write(img, dir, err, errlen);
	if (ret)
		goto fail;
	*written = img->len;
	/* the old journal is of the old base: ignored at load even if this does not last */
	ret = remember_base(j, img);
	if (!ret) {
		int dfd = state__open_dir(dir, err, errlen);

		if (dfd >= 0) {
			unlinkat(dfd, STATE_JOURNAL_NAME, 0);
			close(dfd);
		}
	}
	return ret;
fail:
	free(batch);
	j->len = 0;	/* unsure what the disk holds: the next save is whole */
	return ret;
}

int state_journal__patch(int dfd, const unsigned char *buf, size_t len, unsigned char **out,
			 size_t *batches)
{
	unsigned char *j = NULL, *img;
	size_t jlen = 0, p;
	struct stat st;
	int fd, ret = 0;

	*out = NULL;
	*batches = 0;
	fd = openat(dfd, STATE_JOURNAL_NAME, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* none, or not ours to read: the base alone */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < JOURNAL_HEADER_LEN ||
	    (__u64)st.st_size > STATE_FILE_MAX)
		goto out;
	j = malloc(st.st_size);
	if (!j) {
		ret = -ENOMEM;
		goto out;
	}
	while (jlen < (size_t)st.st_size) {
		ssize_t n = read(fd, j + jlen, st.st_size - jlen);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		jlen += n;
	}
	if (jlen < JOURNAL_HEADER_LEN || memcmp(j, JOURNAL_MAGIC, 8) ||
	    le32_get(j + 8) != JOURNAL_VERSION || le32_get(j + 12) != STATE_JOURNAL_CHUNK ||
	    len < 8 || le64_get(j + 16) != le64_get(buf + len - 8))
		goto out;	/* of another base, or another format */
	img = malloc(len ? len : 1);
	if (!img) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(img, buf, len);
	for (p = JOURNAL_HEADER_LEN; jlen - p >= BATCH_HEADER_LEN + BATCH_TRAILER_LEN; ) {
		__u32 n = le32_get(j + p), plen = le32_get(j + p + 4);
		size_t q = p + BATCH_HEADER_LEN, end;
		bool ok = true;

		if (plen > jlen - p - BATCH_HEADER_LEN - BATCH_TRAILER_LEN)
			break;	/* torn by a crash: the journal ends here */
		end = q + plen;
		if (le64_get(j + end) != fnv1a64(FNV1A64_OFFSET, j + p, end - p))
			break;
		/* every patch inside the batch and the file, before any is applied */
		for (__u32 i = 0; i < n && ok; i++) {
			__u32 off, l;

			ok = end - q >= PATCH_HEADER_LEN;
			if (!ok)
				break;
			off = le32_get(j + q);
			l = le32_get(j + q + 4);
			ok = l <= end - q - PATCH_HEADER_LEN && off <= len && l <= len - off;
			q += PATCH_HEADER_LEN + l;
		}
		if (!ok || q != end)
			break;
		for (q = p + BATCH_HEADER_LEN; q < end; ) {
			__u32 off = le32_get(j + q), l = le32_get(j + q + 4);

			memcpy(img + off, j + q + PATCH_HEADER_LEN, l);
			q += PATCH_HEADER_LEN + l;
		}
		(*batches)++;
		p = end + BATCH_TRAILER_LEN;
	}
	if (*batches)
		*out = img;
	else
		free(img);
out:
	free(j);
	close(fd);
	return ret;
}

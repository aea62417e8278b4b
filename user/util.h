/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Small helpers every part of the agent uses, written once: the FNV-1a
 * hash, little-endian stores and loads (the state file formats), the
 * monotonic clock, a whole write.
 */
#ifndef SLOTAP_UTIL_H
#define SLOTAP_UTIL_H

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#define FNV1A64_OFFSET	0xcbf29ce484222325ULL
#define FNV1A64_PRIME	0x100000001b3ULL

/* FNV-1a, 64 bits, of n bytes at p, going on from h (FNV1A64_OFFSET to start). */
static inline __u64 fnv1a64(__u64 h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= FNV1A64_PRIME;
	}
	return h;
}

static inline void le16_put(unsigned char *p, __u16 v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void le32_put(unsigned char *p, __u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static inline void le64_put(unsigned char *p, __u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static inline __u16 le16_get(const unsigned char *p)
{
	return p[0] | (__u16)p[1] << 8;
}

static inline __u32 le32_get(const unsigned char *p)
{
	__u32 v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline __u64 le64_get(const unsigned char *p)
{
	__u64 v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* CLOCK_MONOTONIC in ns: bpf_ktime_get_ns()'s clock. */
static inline __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* All len bytes at p to fd, through short writes and EINTR: 0 or -errno. */
static inline int write_all(int fd, const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		b += n;
		len -= n;
	}
	return 0;
}

#endif /* SLOTAP_UTIL_H */

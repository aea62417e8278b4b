/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Saving only what changed. A save rewrites little of the state file: each
 * SLO's counters, the head bucket of each level and a checksum. So the
 * state on disk is the last whole file (slo-state.bin, the base, written
 * by state__write()) plus a journal of the 64-byte chunks that changed
 * since (slo-state.journal), each save one batch appended and fdatasync'ed.
 * When the journal would outgrow the base, or the file's length changes
 * (an SLO or default copy added or removed), the next save writes a new
 * base and drops the journal.
 *
 * Journal format, little-endian:
 *
 *   header  "SLOTAPJR", u32 version (1), u32 chunk size (64), u64 base id
 *           (the trailer, i.e. checksum, of the base it patches)
 *   batch   u32 patches, u32 payload length, payload: per patch u32 offset,
 *           u32 length, bytes; then u64 FNV-1a 64 of the batch before it
 *
 * Loading applies the batches in order to a copy of the base as far as
 * they check out (a batch torn by a crash ends the journal); the result is
 * a whole state file, checked as one (its trailer covers every byte), or
 * the base alone is taken. A journal of another base is ignored.
 */
#ifndef SLOTAP_STATE_JOURNAL_H
#define SLOTAP_STATE_JOURNAL_H

#include <stddef.h>
#include <linux/types.h>

#define STATE_JOURNAL_NAME	"slo-state.journal"
#define STATE_JOURNAL_CHUNK	64

struct state_image;

/* What the state on disk holds, as chunk hashes: the saver's memory of it. */
struct state_journal {
	__u64 *chunk;		/* hash of each STATE_JOURNAL_CHUNK bytes */
	size_t len;		/* bytes of the state on disk; 0: unknown, next save is whole */
	size_t base_len;	/* of the base file */
	size_t journal_len;	/* of the journal, 0: none */
	__u64 base_id;		/* the base file's trailer */
};

/*
 * Saves img (a state__snapshot()) into dir: the changed chunks appended to
 * the journal, or the whole file as a new base (see above). *written: the
 * bytes written. 0 or -errno with one line in err; after an error the next
 * save writes a whole base.
 */
int state_journal__save(struct state_journal *j, const struct state_image *img, const char *dir,
			char *err, size_t errlen, size_t *written);
void state_journal__free(struct state_journal *j);

/*
 * The base file's bytes (buf, len) with the journal in dfd applied: a new
 * buffer of len bytes in *out, or *out NULL when there is no journal of
 * this base (or it holds no batch). *batches: how many were applied.
 * 0 or -ENOMEM.
 */
int state_journal__patch(int dfd, const unsigned char *buf, size_t len, unsigned char **out,
			 size_t *batches);

#endif /* SLOTAP_STATE_JOURNAL_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * SLO state persistence: every SLO's window state in one file, so error
 * budgets survive restarts and crashes.
 *
 * File format, little-endian:
 *
 *   header   "SLOTAPST", u32 version (1), u32 record count, u64 saved_at (unix s)
 *   record   u16 key length, key bytes (no NUL), u32 blob length,
 *            blob (slo__serialize(), itself versioned and checksummed)
 *   trailer  u64 FNV-1a 64 of every byte before it
 *
 * The key of a configured SLO is its name; that of a default SLO's copy is
 * NAME "\x1f" SERVICE "\x1f" METHOD " " ROUTE, which no name can be. Either
 * ends in "\x1e" and 16 hex digits: a hash of what the SLO counts good and
 * bad (SLI, threshold, bad statuses, failures, what it is about), so that a
 * record of another definition starts fresh. Keys without it (older files)
 * are taken as matching. Files of agents without default SLOs read the
 * same, and theirs read here.
 *
 * Neither function locks anything: the caller keeps slo_registry__record()
 * out while they run (same thread, or under the registry's lock).
 */
#ifndef SLOTAP_STATE_H
#define SLOTAP_STATE_H

#include <stddef.h>
#include <linux/types.h>

#define STATE_FILE_NAME		"slo-state.bin"
#define STATE_FILE_VERSION	1
/* A default copy with a longer key (an absurdly long route) is not saved. */
#define STATE_KEY_MAX		1024
/*
 * Larger files are not read. The largest state a valid config makes
 * (CONFIG_MAX_SLOS rolling 31 d SLOs with 63-byte names and as many
 * default copies with the longest keys) is ~480 MiB.
 */
#define STATE_FILE_MAX		(512u << 20)

/* Damaged state files kept aside, the newest; older ones are removed. */
#define STATE_DAMAGED_KEEP	3

struct slo_registry;

/*
 * The state directory, checked at start: created (mode 0700) if missing;
 * refused (-EPERM, or the -errno of open()) when it is a symlink, not a
 * directory, owned by another user or writable by group or others, any of
 * whom could make root write or read a file of their choosing there. One
 * line in err names the path and the fix. Every save and load checks again.
 */
int state__check_dir(const char *dir, char *err, size_t errlen);
/* The same checks; the directory's fd (O_DIRECTORY, O_NOFOLLOW) or -errno with err. */
int state__open_dir(const char *dir, char *err, size_t errlen);

/*
 * A save is two steps, so that the registry's lock, which draining and
 * scraping need, is held only while memory is copied:
 * state__snapshot() serializes every SLO into img (the file's bytes; under
 * the lock, no system call), state__write() writes them outside it.
 * content_hash covers the SLOs' state, not the time of the snapshot: equal
 * hashes mean there is nothing new to write. img is reused from one save
 * to the next; state__image_free() releases it.
 */
struct state_image {
	unsigned char *buf;
	size_t len, cap;
	__u64 content_hash;
};

/* now_s: the SLOs' clock, kept as saved_at. 0, -ENOMEM, -EFBIG (over STATE_FILE_MAX). */
int state__snapshot(const struct slo_registry *reg, __u64 now_s, struct state_image *img);
/*
 * Writes img as dir/slo-state.bin atomically: dir/.slo-state.bin.tmp
 * (created anew with O_EXCL and O_NOFOLLOW: one left by a crash mid-save
 * is removed first), fsync, rename, fsync(dir). 0 or -errno with one line
 * in err (-ENOENT: no such dir; -EPERM: the dir is refused, see
 * state__check_dir(); -ENOSPC, -EIO, ...). On error the previous file is
 * left as it was and the temporary file is removed.
 */
int state__write(const struct state_image *img, const char *dir, char *err, size_t errlen);
void state__image_free(struct state_image *img);
/* Both steps at once, for tests and tools. */
int state__save(const struct slo_registry *reg, const char *dir, __u64 now_s);

/*
 * Restores every SLO of reg found in dir/slo-state.bin (matched by SLO
 * name; an SLO whose spec changed or whose record is damaged starts fresh),
 * and the default SLO copies saved: their endpoints are set up at once, as
 * if seen (slo_registry__adopt_default()), so a copy also carries on before
 * its endpoint's next request, and is saved again. Copies of a default SLO
 * no longer configured, of an endpoint an explicit SLO now covers, or past
 * max_default_slos are left out.
 * A missing file is a fresh start (returns 0, no warning). A damaged file
 * (bad magic, version, checksum, truncated, lengths that do not add up)
 * logs ONE warning line saying why, is renamed aside to
 * dir/slo-state.bin.damaged-N (N counting up; the STATE_DAMAGED_KEEP newest
 * are kept), and the agent starts fresh: returns 0. The journal
 * (state_journal.h) is applied first; a result that does not check out
 * falls back to the file alone. A state saved after now_s (the clock went
 * back) restores as slo__clock() says, with one warning. Files are opened
 * with O_NOFOLLOW, in a directory state__check_dir() accepts.
 * Returns the number of SLOs (and copies) restored in *restored. Never refuses to start:
 * only -ENOMEM is an error (some SLOs may then already be restored).
 * Call it right after slo_registry__new(), before the first record: a
 * restored engine replaces the fresh one and whatever it had counted.
 */
int state__load(struct slo_registry *reg, const char *dir, __u64 now_s, size_t *restored);

struct state_restored {
	size_t configured;	/* explicit SLOs of the registry */
	size_t explicit;	/* of which restored */
	size_t defaults;	/* default SLO copies restored */
	size_t fresh;		/* SLOs (and copies) whose spec changed: started fresh */
	__u64 saved_at;		/* unix time the state was saved */
};

/*
 * A reload: the state of every SLO of from carried over to to, a registry
 * of the new configuration not yet recorded into, matched exactly as
 * state__load() matches a file (SLOs by name, default copies by name,
 * service and endpoint; a changed spec starts fresh). from is unchanged.
 * 0, -ENOMEM, -EFBIG.
 */
int state__carry_over(struct slo_registry *to, const struct slo_registry *from, __u64 now_s,
		      struct state_restored *carried);

#endif /* SLOTAP_STATE_H */

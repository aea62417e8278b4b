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

struct slo_registry;

/*
 * Writes dir/slo-state.bin atomically: dir/.slo-state.bin.tmp, fsync,
 * rename, fsync(dir). 0 or -errno (-ENOENT: no such dir; -EFBIG: more
 * than STATE_FILE_MAX). On error the previous file is left as it was and
 * the temporary file is removed.
 */
int state__save(const struct slo_registry *reg, const char *dir);

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
 * dir/slo-state.bin.damaged-<now_s>, and the agent starts fresh: returns 0.
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
 * 0, -ENOMEM, -EFBIG, or another -errno (memfd_create() failed).
 */
int state__carry_over(struct slo_registry *to, const struct slo_registry *from, __u64 now_s,
		      struct state_restored *carried);

#endif /* SLOTAP_STATE_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every fuzz target (tests/fuzz/fuzz_*.c) shares. A target is one
 * LLVMFuzzerTestOneInput(), linked either with libFuzzer (make fuzz) or
 * with replay.c, which runs each input file once (make unit, make
 * sanitize). A broken invariant aborts, as a crash does: libFuzzer keeps
 * the input, replay.c names it.
 */
#ifndef SLOTAP_FUZZ_H
#define SLOTAP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional: once, before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The target's name: tests/fuzz/corpus/NAME, tests/fuzz/regressions/NAME. */
extern const char fuzz_target_name[];

/*
 * Set by a target's LLVMFuzzerInitialize when it cannot run here (the BPF
 * one without root): why. Its inputs are then skipped, except under CI.
 */
extern const char *fuzz_unavailable;

/* Prints the broken invariant and aborts. */
void fuzz__fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

/* The same, for helpers that report through a callback (tests/bpf/bpf_feed.c). */
void fuzz__fail_msg(const char *msg);

#define FUZZ_CHECK(cond, ...)							\
	do {									\
		if (!(cond))							\
			fuzz__fail(__FILE__, __LINE__, #cond, __VA_ARGS__);	\
	} while (0)

/*
 * Where sanitizer reports go (a target that silences stderr around the
 * code under test keeps them): a no-op in a build without sanitizers.
 */
void fuzz__keep_reports(int fd);

#endif /* SLOTAP_FUZZ_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A failure that may last (a sweep that cannot read, /proc hidden, ...):
 * logged when it starts, when its error changes, hourly while it goes on,
 * and when it ends; never once a second. Each failure is counted.
 */
#ifndef SLOTAP_TROUBLE_H
#define SLOTAP_TROUBLE_H

#include <linux/types.h>

/* A failure that lasts is logged again at most this often. */
#define TROUBLE_REPORT_INTERVAL_NS	(3600ULL * 1000000000ULL)

struct trouble {
	const char *what;	/* "the request timeout sweep": what failed */
	const char *impact;	/* what is not counted while it fails */
	int err;		/* the failure going on (-errno), 0 for none */
	__u64 since_ns, reported_ns;
	__u64 run;		/* failures since it started failing */
	__u64 total;		/* failures ever */
};

/*
 * The outcome of one attempt at now_ns: 0 (it worked) or a negative errno;
 * detail, if not NULL, says it better than strerror(-err).
 */
void trouble__note(struct trouble *t, int err, const char *detail, __u64 now_ns);

#endif /* SLOTAP_TROUBLE_H */

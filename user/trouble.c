// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "log.h"
#include "trouble.h"

void trouble__note(struct trouble *t, int err, const char *detail, __u64 now_ns)
{
	if (!err) {
		if (t->err)
			log__info("%s works again, after %llu failures over %llu s", t->what,
				  (unsigned long long)t->run,
				  (unsigned long long)((now_ns - t->since_ns) / 1000000000ULL));
		t->err = 0;
		return;
	}
	t->total++;
	if (!t->err) {
		t->since_ns = now_ns;
		t->run = 0;
	}
	t->run++;
	if (err == t->err && now_ns - t->reported_ns < TROUBLE_REPORT_INTERVAL_NS)
		return;
	if (!detail)
		detail = strerror(-err);
	if (err == t->err)
		log__warn("%s still fails: %s (%llu failures since it started)", t->what,
			  detail, (unsigned long long)t->run);
	else
		log__warn("%s fails: %s; %s (logged again if the error changes, or hourly)",
			  t->what, detail, t->impact);
	t->err = err;
	t->reported_ns = now_ns;
}

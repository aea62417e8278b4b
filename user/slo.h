/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * SLO and error-budget engine: one struct slo per SLO, fed good/total event
 * counts with timestamps, answering SLI, remaining budget, burn rates, policy
 * conditions and forecasts over time with bounded memory. Pure logic: the
 * clock is always passed in by the caller (unix seconds, UTC), so the engine
 * never reads the real clock and tests can simulate weeks in milliseconds.
 * Not thread-safe: one writer, readers under the caller's lock.
 *
 * Units: ratios are doubles in [0, 1] (budget_remaining may go negative),
 * times are __u64 unix seconds, durations are seconds. Objectives and
 * targets are taken at a precision of 1e-9 (parts per billion) and alert
 * factors at 1e-6, and every decision (alert, policy, good minute) is an
 * exact integer comparison of counts against those, never a float compare:
 * 6 errors in 1000 requests is exactly 2x the 0.3% budget of 99.7%.
 *
 * Time buckets. Every window is a sum of ring-buffer buckets of {good, total}
 * (two __u64 each, 16 bytes); each record adds to the newest bucket of every
 * level, so sums are exact at the resolution of the level a window uses:
 *
 *   level  bucket  buckets           covers        windows served (max error)
 *   L0     10 s    180               30 min        5m (10 s, 3.3%), 30m (10 s, 0.56%)
 *   L1     1 min   360               6 h           1h (1.7%), 2h (0.83%), 6h (0.28%)
 *   L2     10 min  144               1 d           24h/1d (0.69%), rolling <= 1 d
 *   L3     1 h     max(168, W/3600)  7 d .. 31 d   3d (1.4%), 7d (0.6%), rolling 28d (0.15%)
 *
 * A window of length W over buckets of width w sums the W/w newest buckets,
 * the newest being the current partial one: it covers
 * [(now / w - W / w + 1) * w, now], never longer than W and less than one
 * bucket shorter (the "max error" above is w / W). An event leaves a window
 * with its bucket: between W - w and W seconds after it happened, never
 * later. The policy windows use L2 (24 h) and L3 (7 d). Calendar windows
 * are exact: a per-period accumulator is reset at each boundary, and the
 * 24 h / 7 d policy sums stop at the boundary (it is an hour edge, so
 * exactly).
 *
 * Memory per SLO: one allocation of sizeof(struct slo) (288 bytes on 64-bit)
 * + 16 bytes per bucket. Requests-based: rolling 28 d 21,984 bytes (1356
 * buckets), rolling 31 d (the largest) 23,136, calendar kinds and rolling
 * windows up to 7 d 13,920. Timeslices (no L0, one spare bucket on L1-L3):
 * calendar 11,088, rolling 28 d 19,152. Never more than SLO_MEM_MAX_BYTES,
 * whatever the spec (slo__mem_size() tells). 2000 rolling 28 d SLOs: 44 MB.
 *
 * Timeslices: the budget counts minutes instead of requests. A minute is
 * good when its good/total >= timeslice_target, or when it had no events.
 * A minute is judged once it is over, so timeslice windows end with the
 * last closed minute (figures lag up to 60 s) and count every minute they
 * cover, also those before the SLO was created (no events: good): at L1
 * exactly W / 60 minutes, at L2 and L3 whole buckets plus the closed
 * minutes of the current one. SLI = good minutes / minutes; the budget is
 * (1 - objective) x the minutes of the whole window or calendar period.
 */
#ifndef SLOTAP_SLO_H
#define SLOTAP_SLO_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#define SLO_PPB			1000000000ULL	/* objectives and targets are parts per billion */
#define SLO_TIME_MIN_S		946684800ULL	/* 2000-01-01T00:00:00Z: an earlier clock is unset */
#define SLO_TIME_MAX_S		253402300799ULL	/* 9999-12-31T23:59:59Z */
#define SLO_WINDOW_MAX_S	(31ULL * 86400)	/* longest rolling window (and month) */
/* A clock stepped back by up to this is waited for; further, history moves back (slo__clock()). */
#define SLO_CLOCK_WAIT_MAX_S	86400ULL
#define SLO_MEM_MAX_BYTES	24576		/* upper bound of slo__mem_size() */
#define SLO_STATE_VERSION	1		/* slo__serialize() format */

enum slo_window_kind {
	SLO_WINDOW_ROLLING,
	SLO_WINDOW_CALENDAR_WEEK,	/* Monday 00:00 UTC to the next Monday */
	/*
	 * ISO-year four-week periods: they start on the Monday of ISO weeks 1,
	 * 5, 9, ..., 49 (week 1 is the week holding January 4th, so the ISO
	 * year starts on the Monday on or before it). The 13th period runs to
	 * the end of the ISO year: 28 days, or 35 (weeks 49-53) in a 53-week
	 * ISO year such as 2020 or 2026, so no lone one-week period exists and
	 * every ISO year starts a period.
	 */
	SLO_WINDOW_CALENDAR_4W,
	SLO_WINDOW_CALENDAR_MONTH,	/* first of the month 00:00 UTC to the next */
};

struct slo_spec {
	double objective;		/* in (0, 1), e.g. 0.995; rounded to 1e-9 */
	enum slo_window_kind window;
	/*
	 * Rolling length, 60 s .. 31 d, a whole number of buckets of the level
	 * that covers it: a multiple of 10 s up to 30 min (60 s with
	 * timeslices), of 60 s up to 6 h, of 600 s up to 1 d, of 3600 s above.
	 * Ignored (may be anything) for calendar kinds.
	 */
	__u64 window_s;
	bool timeslices;		/* budget in good minutes instead of requests */
	double timeslice_target;	/* a minute is good when its SLI >= this; 0: objective */
	/*
	 * Low-traffic protection: a burn-rate rule needs this many events in
	 * its long window, a policy condition and the budget this many in the
	 * SLO window (with timeslices: minutes that had events). Fewer, and
	 * the SLO has insufficient data: nothing fires, the budget is unknown.
	 * 0: no minimum. Not part of the saved state: changing it keeps it.
	 */
	__u64 min_events;
};

struct slo;

/*
 * Burn-rate windows reported by slo__status(), as indexes into burn_rate[]
 * and slo_burn_window_s[].
 */
enum slo_burn_window {
	SLO_BURN_5M,
	SLO_BURN_30M,
	SLO_BURN_1H,
	SLO_BURN_2H,
	SLO_BURN_6H,
	SLO_BURN_1D,
	SLO_BURN_3D,
	SLO_BURN_WINDOWS
};
extern const __u64 slo_burn_window_s[SLO_BURN_WINDOWS];	/* 300 .. 259200 */
/* their label values: slotap_slo_burn_rate{window="5m"} .. "3d" */
extern const char *const slo_burn_window_names[SLO_BURN_WINDOWS];

/* Error budget policy conditions (book §10.4, Table 10.2) */
#define SLO_POLICY_FAST_BURN_PCT	30	/* E: 30% of the budget within 24 h */
#define SLO_POLICY_FAST_BURN_S		86400ULL
#define SLO_POLICY_SLOW_BURN_PCT	50	/* F: 50% of the budget within 7 d */
#define SLO_POLICY_SLOW_BURN_S		604800ULL
#define SLO_POLICY_PERIOD_PCT		70	/* B: 70% of the period's budget */

enum slo_policy_condition {
	/*
	 * A: budget exhausted, or (calendar windows) forecast to hit 0 at the
	 * 1h burn rate before the period ends. Rolling windows have no end:
	 * only "exhausted" applies.
	 */
	SLO_POLICY_EXHAUSTION = 1u << 0,
	SLO_POLICY_PERIOD_BUDGET = 1u << 1,	/* B */
	SLO_POLICY_FAST_BURN = 1u << 2,		/* E */
	SLO_POLICY_SLOW_BURN = 1u << 3,		/* F */
};

struct slo_status {
	__u64 good_total, events_total;		/* since the SLO was made: saved, restored */
	/*
	 * Since this process made the SLO (restored or not; kept across a
	 * reload by slo__take_counters()): the exported counters, which must
	 * start at 0 with the process so that a crash that lost the events
	 * since the last save reads as an ordinary counter reset.
	 */
	__u64 process_good_total, process_events_total;
	__u64 late_events_total;		/* events folded into a later bucket (clock went back) */
	__u64 rejected_records_total;		/* slo__record() calls dropped: good > total, overflow, clock */
	/*
	 * The SLO window's counts: events, or minutes with timeslices
	 * (window_total is then every closed minute of the window so far).
	 */
	__u64 window_good, window_total;
	/*
	 * Events in the SLO window (with timeslices: minutes that had events),
	 * and whether that is below spec.min_events: budget_remaining,
	 * budget_consumed_* and exhaustion_s are then NaN, not a guess.
	 */
	__u64 window_events;
	bool insufficient_data;
	double sli;				/* over the SLO window (NaN when no events) */
	double error_budget;			/* 1 - objective */
	/*
	 * Fraction of the window's budget left: 1 - bad / (budget * total);
	 * total is the window's events, or with timeslices the minutes of
	 * the whole window or period. Goes negative; calendar windows start
	 * again at 1 at each boundary, no debt carried over.
	 */
	double budget_remaining;
	/* (bad/total over that window) / error_budget; 0 with no events */
	double burn_rate[SLO_BURN_WINDOWS];
	/*
	 * Fraction of the current window's budget (same denominator as
	 * budget_remaining) consumed by bad events of the last 24 h / 7 d
	 * that fall inside the current window: a calendar boundary clears it.
	 */
	double budget_consumed_24h, budget_consumed_7d;
	/*
	 * Fraction of the budget consumed per hour at the 1h burn rate:
	 * burn_1h x 3600 / window length (the steady-traffic convention: a
	 * burn rate of 1 uses the budget up in exactly one window).
	 */
	double depletion_per_hour;
	/*
	 * Forecast seconds until budget_remaining hits 0 at the current (1h)
	 * burn rate: budget_remaining x window length / burn_1h; +Inf when
	 * not burning; 0 when already exhausted.
	 */
	double exhaustion_s;
	__u64 window_start_s, window_end_s;	/* current window (rolling: now - length .. now) */
};

/*
 * Returns NULL with errno EINVAL (bad spec, now_s outside
 * [SLO_TIME_MIN_S, SLO_TIME_MAX_S]) or ENOMEM.
 */
struct slo *slo__new(const struct slo_spec *spec, __u64 now_s);
void slo__free(struct slo *s);
/*
 * A wall clock that steps. Buckets keep the times they were counted at.
 * Forward, the SLO moves on as if that time had passed (buckets age out).
 * Back by up to SLO_CLOCK_WAIT_MAX_S (a clock set at boot before NTP, a VM
 * restored from a snapshot), the SLO waits for the clock to catch up: its
 * newest bucket stays the newest, events meanwhile are folded into it
 * (late_events_total), figures are those of its latest time. Back by more
 * (a clock that ran ahead, set right), waiting would freeze it for that
 * long: its whole history moves back with the clock instead, every bucket
 * keeping its age (a calendar SLO moved into an earlier period starts that
 * period empty). No count is ever dropped for a clock step.
 * slo__clock() applies the latter to an SLO that records nothing (the
 * caller's periodic tick); true when it moved the SLO back.
 */
bool slo__clock(struct slo *s, __u64 now_s);
/*
 * Adds events that happened at now_s. Time only moves forward: a timestamp
 * older than the current finest bucket (10 s; a minute with timeslices) is
 * folded into the current one and counted in late_events_total (unless the
 * clock went back further than SLO_CLOCK_WAIT_MAX_S: see slo__clock()).
 * Records with good > total, beyond SLO_TIME_MAX_S, or overflowing the
 * counters are dropped and counted in rejected_records_total.
 */
void slo__record(struct slo *s, __u64 now_s, __u64 good, __u64 total);
/* now_s before the latest record is taken as that record's time. */
void slo__status(const struct slo *s, __u64 now_s, struct slo_status *out);
/*
 * to carries on from's process counters (a reload: the same process, so the
 * exported counters must not step back), whatever their states.
 */
void slo__take_counters(struct slo *to, const struct slo *from);

/*
 * Bytes one SLO with this spec allocates (0 for an invalid spec), always
 * <= SLO_MEM_MAX_BYTES.
 */
size_t slo__mem_size(const struct slo_spec *spec);

/*
 * The calendar period holding t: [*start_s, *end_s). Returns 0, or -EINVAL
 * for SLO_WINDOW_ROLLING or t outside [SLO_TIME_MIN_S, SLO_TIME_MAX_S].
 */
int slo__calendar_period(enum slo_window_kind kind, __u64 t, __u64 *start_s, __u64 *end_s);

/*
 * Alerts: multiwindow multi-burn-rate (SRE Workbook). A rule fires when the
 * burn rate over long_s and over short_s are both >= factor; short_s = 0
 * makes it a single-window rule (the book's Table 9.10).
 */
struct slo_alert_rule {
	const char *severity;
	const char *condition;
	__u64 long_s, short_s;
	double factor;		/* > 0, taken at 1e-6 */
};

#define SLO_DEFAULT_ALERT_RULES	4
/*
 * page 1h & 5m x14.4, page 6h & 30m x6, ticket 1d & 2h x3, ticket 3d & 6h x1
 * (2%, 5%, 10%, 10% of a 30-day budget)
 */
extern const struct slo_alert_rule slo_default_alert_rules[SLO_DEFAULT_ALERT_RULES];
/* Book Table 9.10: "error budget depletion for alert > 200%" in 60 min: 2x over 1 h */
extern const struct slo_alert_rule slo_book_alert_rule;

/*
 * Whether both windows' burn rate is >= rule->factor. False for an empty
 * window, for a long window with fewer than spec.min_events events (minutes
 * with events, with timeslices), and for a rule whose windows this SLO
 * cannot serve (zero or longer than the coarsest level's reach, below a
 * minute with timeslices).
 */
bool slo__burn_alert(const struct slo *s, __u64 now_s, const struct slo_alert_rule *rule);
/*
 * The policy conditions met now: a mask of enum slo_policy_condition;
 * none while the SLO window holds fewer than spec.min_events events.
 */
unsigned int slo__policy(const struct slo *s, __u64 now_s);

/*
 * Persistence. slo__serialize() returns the bytes the state needs, and
 * writes them only when len is enough (buf may be NULL to ask), or -EINVAL.
 * The format is versioned, little-endian and checksummed (FNV-1a 64, which
 * catches every change confined to one byte). slo__deserialize() returns a
 * new SLO brought forward to now_s, or NULL with errno EINVAL when the
 * buffer is damaged, of another version, of another spec, inconsistent in
 * any field; ENOMEM. A state saved after now_s (the clock went back) is
 * restored as slo__clock() says: it waits, or moves back.
 */
int slo__serialize(const struct slo *s, void *buf, size_t len);
struct slo *slo__deserialize(const struct slo_spec *spec, const void *buf, size_t len,
			     __u64 now_s);

#endif /* SLOTAP_SLO_H */

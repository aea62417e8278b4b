// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slo.h"
#include "util.h"

#define SLO_LEVELS	4
#define MINUTE_S	60ULL
#define HOUR_S		3600ULL
#define DAY_S		86400ULL
#define PERIOD_4W_DAYS	28
#define PERIODS_4W	13	/* per ISO year; the last one takes week 53 */
#define FACTOR_SCALE	1000000ULL	/* alert factors are taken at 1e-6 */
#define FACTOR_MAX	1e6

/* bucket widths divide each other and the hour, so periods start on bucket edges */
static const __u32 level_width_s[SLO_LEVELS] = { 10, 60, 600, 3600 };
/* L3 grows beyond this with a rolling window longer than 7 d */
static const __u32 level_buckets[SLO_LEVELS] = { 180, 360, 144, 168 };

const __u64 slo_burn_window_s[SLO_BURN_WINDOWS] = {
	[SLO_BURN_5M] = 5 * MINUTE_S,
	[SLO_BURN_30M] = 30 * MINUTE_S,
	[SLO_BURN_1H] = HOUR_S,
	[SLO_BURN_2H] = 2 * HOUR_S,
	[SLO_BURN_6H] = 6 * HOUR_S,
	[SLO_BURN_1D] = DAY_S,
	[SLO_BURN_3D] = 3 * DAY_S,
};

const char *const slo_burn_window_names[SLO_BURN_WINDOWS] = {
	[SLO_BURN_5M] = "5m", [SLO_BURN_30M] = "30m", [SLO_BURN_1H] = "1h", [SLO_BURN_2H] = "2h",
	[SLO_BURN_6H] = "6h", [SLO_BURN_1D] = "1d", [SLO_BURN_3D] = "3d",
};

const struct slo_alert_rule slo_default_alert_rules[SLO_DEFAULT_ALERT_RULES] = {
	{ "page", "2% of a 30-day budget in 1h", HOUR_S, 5 * MINUTE_S, 14.4 },
	{ "page", "5% of a 30-day budget in 6h", 6 * HOUR_S, 30 * MINUTE_S, 6 },
	{ "ticket", "10% of a 30-day budget in 1d", DAY_S, 2 * HOUR_S, 3 },
	{ "ticket", "10% of a 30-day budget in 3d", 3 * DAY_S, 6 * HOUR_S, 1 },
};

const struct slo_alert_rule slo_book_alert_rule = {
	"page", "error budget depletion > 200% of the hourly budget in 60 min", HOUR_S, 0, 2,
};

struct slo_counts {
	__u64 good, total;
};

struct slo_ring {
	__u64 head;		/* bucket number (t / width) of the newest bucket */
	__u32 width_s;
	__u32 n;		/* buckets; 0: level not used by this SLO */
	__u32 idx;		/* head % n, kept so that a record divides nothing */
	struct slo_counts *slot;
};

/* A spec checked and turned into integers and a bucket layout. */
struct slo_layout {
	enum slo_window_kind kind;
	bool timeslices;
	__u64 window_s;		/* rolling length; 0 for calendar kinds */
	__u64 objective_ppb, target_ppb;
	__u64 min_events;
	__u32 n[SLO_LEVELS];
	size_t slots;
};

struct slo {
	enum slo_window_kind kind;
	bool timeslices;
	__u64 window_s;
	__u64 objective_ppb, budget_ppb, target_ppb;
	__u64 min_events;
	__u64 tick_s;		/* finest bucket: 10 s, or the minute with timeslices */
	__u64 tick_end_s;	/* end of the finest bucket holding last_s */
	__u64 created_s, last_s;
	__u64 good_total, events_total, late_events, rejected;
	__u64 process_good, process_events;	/* not saved: see struct slo_status */
	struct {
		__u64 start_s, end_s, good, total;
	} period;		/* calendar kinds: the period holding last_s */
	struct {
		__u64 minute, good, total;
	} pending;		/* timeslices: the minute holding last_s, not judged yet */
	struct slo_ring ring[SLO_LEVELS];
	struct slo_counts slots[];
};

/*
 * Bad and total over a window: events, or minutes with timeslices; events:
 * the events (the minutes that had some, with timeslices), for min_events.
 */
struct slo_span {
	__u64 bad, total, events;
};

/* The SLO window (rolling or calendar period) at some time. */
struct slo_window {
	__u64 start_s, end_s;
	__u64 length_s;		/* the whole window or period, for forecasts */
	__u64 clip_s;		/* policy windows stop here; 0: the window is longer */
	__u64 good, total;	/* events, or closed minutes so far */
	__u64 events;		/* events, or closed minutes that had some */
	/* budget denominator: the events, or every minute of the window */
	__u64 budget_total;
};

/* ---- calendar ---------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static __s64 days_from_civil(__s64 y, unsigned int m, unsigned int d)
{
	__s64 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(__s64 z, __s64 *year, unsigned int *month)
{
	__s64 era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = yoe + era * 400 + (*month <= 2);
}

/* Monday = 0; 1970-01-01 was a Thursday */
static __s64 weekday(__s64 day)
{
	return (day + 3) % 7;
}

/* Day of the Monday of ISO week 1: the week holding January 4th */
static __s64 iso_year_start(__s64 y)
{
	__s64 jan4 = days_from_civil(y, 1, 4);

	return jan4 - weekday(jan4);
}

int slo__calendar_period(enum slo_window_kind kind, __u64 t, __u64 *start_s, __u64 *end_s)
{
	__s64 d, s, e, y, next, i;
	unsigned int m;

	if (t < SLO_TIME_MIN_S || t > SLO_TIME_MAX_S)
		return -EINVAL;
	d = t / DAY_S;
	switch (kind) {
	case SLO_WINDOW_CALENDAR_WEEK:
		s = d - weekday(d);
		e = s + 7;
		break;
	case SLO_WINDOW_CALENDAR_4W:
		civil_from_days(d, &y, &m);
		s = iso_year_start(y);
		if (d < s) {
			y--;
			s = iso_year_start(y);
		} else if (d >= iso_year_start(y + 1)) {
			y++;
			s = iso_year_start(y);
		}
		next = iso_year_start(y + 1);
		i = (d - s) / PERIOD_4W_DAYS;
		if (i >= PERIODS_4W - 1) {
			s += (PERIODS_4W - 1) * PERIOD_4W_DAYS;
			e = next;
		} else {
			s += i * PERIOD_4W_DAYS;
			e = s + PERIOD_4W_DAYS;
		}
		break;
	case SLO_WINDOW_CALENDAR_MONTH:
		civil_from_days(d, &y, &m);
		s = days_from_civil(y, m, 1);
		e = m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
		break;
	default:
		return -EINVAL;
	}
	*start_s = (__u64)s * DAY_S;
	*end_s = (__u64)e * DAY_S;
	return 0;
}

/* ---- spec and layout --------------------------------------------------- */

static bool is_calendar(enum slo_window_kind kind)
{
	return kind == SLO_WINDOW_CALENDAR_WEEK || kind == SLO_WINDOW_CALENDAR_4W ||
	       kind == SLO_WINDOW_CALENDAR_MONTH;
}

/* x in (0, 1]: decimal inputs such as 0.995 land on their exact ppb */
static __u64 to_ppb(double x)
{
	return (__u64)(x * (double)SLO_PPB + 0.5);
}

/*
 * The finest used level whose reach holds w, and how many of its buckets
 * make w. With timeslices the newest bucket of a level may hold the open
 * minute, which no window includes: each ring has one spare bucket so that
 * a window of k buckets ending before it is still whole.
 */
static int layout__pick(const __u32 n[SLO_LEVELS], bool timeslices, __u64 w,
			unsigned int *level, __u64 *k)
{
	unsigned int l;

	for (l = 0; l < SLO_LEVELS; l++) {
		if (!n[l] || w > (__u64)(n[l] - timeslices) * level_width_s[l])
			continue;
		*level = l;
		*k = w / level_width_s[l];
		return *k ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static int layout__init(struct slo_layout *lay, const struct slo_spec *spec)
{
	unsigned int l;
	double target;
	__u64 k;

	memset(lay, 0, sizeof(*lay));
	if (!spec || !(spec->objective > 0 && spec->objective < 1))
		return -EINVAL;
	lay->objective_ppb = to_ppb(spec->objective);
	if (!lay->objective_ppb || lay->objective_ppb >= SLO_PPB)
		return -EINVAL;
	lay->timeslices = spec->timeslices;
	lay->min_events = spec->min_events;
	if (spec->timeslices) {
		target = spec->timeslice_target == 0 ? spec->objective : spec->timeslice_target;
		if (!(target > 0 && target <= 1))
			return -EINVAL;
		lay->target_ppb = to_ppb(target);
		if (!lay->target_ppb)
			return -EINVAL;
	}
	lay->kind = spec->window;
	for (l = 0; l < SLO_LEVELS; l++)
		lay->n[l] = level_buckets[l];
	if (spec->window == SLO_WINDOW_ROLLING) {
		if (spec->window_s < MINUTE_S || spec->window_s > SLO_WINDOW_MAX_S)
			return -EINVAL;
		lay->window_s = spec->window_s;
		if (lay->window_s > (__u64)lay->n[3] * HOUR_S)
			lay->n[3] = (lay->window_s + HOUR_S - 1) / HOUR_S;
	} else if (!is_calendar(spec->window)) {
		return -EINVAL;
	}
	if (spec->timeslices) {
		/* a bucket below a minute cannot judge minutes */
		lay->n[0] = 0;
		for (l = 1; l < SLO_LEVELS; l++)
			lay->n[l]++;
	}
	/* whole buckets only: the window's edge is then a bucket edge */
	if (spec->window == SLO_WINDOW_ROLLING &&
	    (layout__pick(lay->n, lay->timeslices, lay->window_s, &l, &k) ||
	     lay->window_s % level_width_s[l]))
		return -EINVAL;
	for (l = 0; l < SLO_LEVELS; l++)
		lay->slots += lay->n[l];
	return 0;
}

static size_t layout__mem_size(const struct slo_layout *lay)
{
	return sizeof(struct slo) + lay->slots * sizeof(struct slo_counts);
}

size_t slo__mem_size(const struct slo_spec *spec)
{
	struct slo_layout lay;

	if (layout__init(&lay, spec))
		return 0;
	return layout__mem_size(&lay);
}

/* ---- rings ------------------------------------------------------------- */

static void ring__advance(struct slo_ring *r, __u64 b)
{
	__u64 gap;

	if (!r->n || b <= r->head)
		return;
	gap = b - r->head;
	if (gap >= r->n) {
		memset(r->slot, 0, r->n * sizeof(*r->slot));
		r->idx = b % r->n;
	} else {
		while (gap--) {
			r->idx = r->idx + 1 == r->n ? 0 : r->idx + 1;
			r->slot[r->idx].good = 0;
			r->slot[r->idx].total = 0;
		}
	}
	r->head = b;
}

static void slots_reverse(struct slo_counts *a, __u32 n)
{
	for (__u32 i = 0; i < n / 2; i++) {
		struct slo_counts t = a[i];

		a[i] = a[n - 1 - i];
		a[n - 1 - i] = t;
	}
}

/*
 * Renumbers every bucket d earlier, contents kept: bucket b - d lives in
 * slot (b - d) % n, so the slots rotate left by d % n (three reversals).
 */
static void ring__shift(struct slo_ring *r, __u64 d)
{
	__u32 k;

	if (!r->n)
		return;
	k = d % r->n;
	slots_reverse(r->slot, k);
	slots_reverse(r->slot + k, r->n - k);
	slots_reverse(r->slot, r->n);
	r->head -= d;
	r->idx = r->head % r->n;
}

/* Empties the buckets numbered below first. */
static void ring__clear_before(struct slo_ring *r, __u64 first)
{
	for (__u32 i = 0; i < r->n; i++) {
		if (r->head - (r->idx + r->n - i) % r->n < first) {
			r->slot[i].good = 0;
			r->slot[i].total = 0;
		}
	}
}

/* sums buckets first..last, of those the ring holds */
static void ring__sum(const struct slo_ring *r, __u64 first, __u64 last, struct slo_counts *sum)
{
	__u64 oldest, x;
	__u32 i;

	sum->good = 0;
	sum->total = 0;
	if (!r->n)
		return;
	oldest = r->head >= r->n - 1 ? r->head - (r->n - 1) : 0;
	if (first < oldest)
		first = oldest;
	if (last > r->head)
		last = r->head;
	if (first > last)
		return;
	i = first % r->n;
	for (x = first; x <= last; x++) {
		sum->good += r->slot[i].good;
		sum->total += r->slot[i].total;
		i = i + 1 == r->n ? 0 : i + 1;
	}
}

/* ---- exact ratio comparisons ------------------------------------------- */

/*
 * Decisions compare ratios of counts by cross-multiplying in 128 bits, so
 * that no rounding can put a count on the wrong side of a threshold. Written
 * out rather than with unsigned __int128 to build on 32-bit targets too.
 */
struct u128 {
	__u64 hi, lo;
};

static struct u128 mul64(__u64 a, __u64 b)
{
	__u64 al = (__u32)a, ah = a >> 32, bl = (__u32)b, bh = b >> 32;
	__u64 p0 = al * bl, p1 = al * bh, p2 = ah * bl, p3 = ah * bh;
	__u64 mid = (p0 >> 32) + (__u32)p1 + (__u32)p2;
	struct u128 r;

	r.lo = (mid << 32) | (__u32)p0;
	r.hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
	return r;
}

/* a * b >= c * d, exactly */
static bool mul_ge(__u64 a, __u64 b, __u64 c, __u64 d)
{
	struct u128 x = mul64(a, b), y = mul64(c, d);

	return x.hi > y.hi || (x.hi == y.hi && x.lo >= y.lo);
}

/* ---- core -------------------------------------------------------------- */

/* good / total < target */
static bool minute_is_bad(const struct slo *s, __u64 good, __u64 total)
{
	return total && !mul_ge(good, SLO_PPB, s->target_ppb, total);
}

/*
 * Judges the pending minute, before the clock moves on: it is last_s's
 * minute, so it belongs to every ring's head bucket (widths are whole
 * minutes) and to the period held.
 */
static void slo__close_minute(struct slo *s)
{
	struct slo_counts *c;
	unsigned int l;
	__u64 good;

	/* an empty minute is good and needs no record: denominators are clock minutes */
	if (!s->pending.total)
		return;
	good = !minute_is_bad(s, s->pending.good, s->pending.total);
	for (l = 1; l < SLO_LEVELS; l++) {
		c = &s->ring[l].slot[s->ring[l].idx];
		c->good += good;
		c->total++;
	}
	if (is_calendar(s->kind)) {
		s->period.good += good;
		s->period.total++;
	}
}

/* Moves last_s to t, a later finest bucket. */
static void slo__advance(struct slo *s, __u64 t)
{
	unsigned int l;

	if (s->timeslices && t / MINUTE_S != s->pending.minute) {
		slo__close_minute(s);
		s->pending.minute = t / MINUTE_S;
		s->pending.good = 0;
		s->pending.total = 0;
	}
	for (l = 0; l < SLO_LEVELS; l++)
		ring__advance(&s->ring[l], t / s->ring[l].width_s);
	if (is_calendar(s->kind) && t >= s->period.end_s) {
		/* t is in range, the kind is a calendar one: this cannot fail */
		slo__calendar_period(s->kind, t, &s->period.start_s, &s->period.end_s);
		s->period.good = 0;
		s->period.total = 0;
	}
	s->last_s = t;
	s->tick_end_s = (t / s->tick_s + 1) * s->tick_s;
}

/*
 * The clock went back by more than SLO_CLOCK_WAIT_MAX_S: rather than wait
 * that long, the SLO's history moves back with it, so its newest bucket is
 * t's and every bucket keeps its age (each level rounds the step to its
 * width). A calendar SLO moved into another period starts that period
 * empty, as at a boundary; moved back within its period, a timeslice
 * count keeps no more minutes than the period has had by t.
 */
static void slo__rebase(struct slo *s, __u64 t)
{
	__u64 created = SLO_TIME_MAX_S, first, start, end;
	unsigned int l;

	for (l = 0; l < SLO_LEVELS; l++) {
		struct slo_ring *r = &s->ring[l];
		__u64 d;

		if (!r->n)
			continue;
		d = r->head - t / r->width_s;
		first = s->created_s / r->width_s;
		first = first > d ? (first - d) * r->width_s : 0;
		if (first < created)
			created = first;
		ring__shift(r, d);
	}
	/* only with a clock just after 2000: what falls before it goes */
	if (created < SLO_TIME_MIN_S)
		created = SLO_TIME_MIN_S;
	s->created_s = created > t ? t : created;
	/*
	 * Levels shift by whole buckets of their own width, so a bucket of one
	 * can land before where another puts the start: nothing is counted
	 * before created_s, as every level's reader checks (found by the
	 * state fuzzer: a restored state that did not load again).
	 */
	for (l = 0; l < SLO_LEVELS; l++)
		if (s->ring[l].n)
			ring__clear_before(&s->ring[l], s->created_s / s->ring[l].width_s);
	if (s->timeslices)
		s->pending.minute = t / MINUTE_S;
	if (is_calendar(s->kind)) {
		slo__calendar_period(s->kind, t, &start, &end);
		if (start != s->period.start_s) {
			s->period.good = 0;
			s->period.total = 0;
		} else if (s->timeslices && s->period.total > t / MINUTE_S - start / MINUTE_S) {
			s->period.total = t / MINUTE_S - start / MINUTE_S;
			if (s->period.good > s->period.total)
				s->period.good = s->period.total;
		}
		s->period.start_s = start;
		s->period.end_s = end;
	}
	s->last_s = t;
	s->tick_end_s = (t / s->tick_s + 1) * s->tick_s;
}

static struct slo *slo__alloc(const struct slo_layout *lay)
{
	struct slo_counts *next;
	struct slo *s;
	unsigned int l;

	s = calloc(1, layout__mem_size(lay));
	if (!s)
		return NULL;
	s->kind = lay->kind;
	s->timeslices = lay->timeslices;
	s->window_s = lay->window_s;
	s->objective_ppb = lay->objective_ppb;
	s->budget_ppb = SLO_PPB - lay->objective_ppb;
	s->target_ppb = lay->target_ppb;
	s->min_events = lay->min_events;
	s->tick_s = lay->timeslices ? MINUTE_S : level_width_s[0];
	next = s->slots;
	for (l = 0; l < SLO_LEVELS; l++) {
		s->ring[l].width_s = level_width_s[l];
		s->ring[l].n = lay->n[l];
		s->ring[l].slot = next;
		next += lay->n[l];
	}
	return s;
}

/* Sets the clock-derived state for last_s = t, with empty buckets. */
static void slo__start(struct slo *s, __u64 t)
{
	unsigned int l;

	s->created_s = t;
	s->last_s = t;
	s->tick_end_s = (t / s->tick_s + 1) * s->tick_s;
	for (l = 0; l < SLO_LEVELS; l++) {
		if (!s->ring[l].n)
			continue;
		s->ring[l].head = t / s->ring[l].width_s;
		s->ring[l].idx = s->ring[l].head % s->ring[l].n;
	}
	if (is_calendar(s->kind))
		slo__calendar_period(s->kind, t, &s->period.start_s, &s->period.end_s);
	if (s->timeslices)
		s->pending.minute = t / MINUTE_S;
}

struct slo *slo__new(const struct slo_spec *spec, __u64 now_s)
{
	struct slo_layout lay;
	struct slo *s;

	if (layout__init(&lay, spec) || now_s < SLO_TIME_MIN_S || now_s > SLO_TIME_MAX_S) {
		errno = EINVAL;
		return NULL;
	}
	s = slo__alloc(&lay);
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	slo__start(s, now_s);
	return s;
}

bool slo__clock(struct slo *s, __u64 now_s)
{
	if (now_s >= s->last_s || s->last_s - now_s <= SLO_CLOCK_WAIT_MAX_S ||
	    now_s < SLO_TIME_MIN_S)
		return false;
	slo__rebase(s, now_s);
	return true;
}

void slo__free(struct slo *s)
{
	free(s);
}

void slo__record(struct slo *s, __u64 now_s, __u64 good, __u64 total)
{
	__u64 t = now_s;
	unsigned int l;

	if (good > total || now_s > SLO_TIME_MAX_S || total > UINT64_MAX - s->events_total ||
	    total > UINT64_MAX - s->process_events) {
		s->rejected++;
		return;
	}
	if (t < s->last_s && !slo__clock(s, t)) {
		/* waits for the clock: folded into the newest bucket */
		if (t < s->tick_end_s - s->tick_s)
			s->late_events += total;
		t = s->last_s;
	}
	if (t >= s->tick_end_s)
		slo__advance(s, t);
	else
		s->last_s = t;
	s->good_total += good;
	s->events_total += total;
	s->process_good += good;
	s->process_events += total;
	if (s->timeslices) {
		s->pending.good += good;
		s->pending.total += total;
		return;
	}
	/* every level's head bucket holds now: one add each, no division */
	for (l = 0; l < SLO_LEVELS; l++) {
		struct slo_counts *c = &s->ring[l].slot[s->ring[l].idx];

		c->good += good;
		c->total += total;
	}
	if (is_calendar(s->kind)) {
		s->period.good += good;
		s->period.total += total;
	}
}

/* the pending minute, as if closed at now: 1 if it is bad, over and from start_min on */
static __u64 pending_bad(const struct slo *s, __u64 now, __u64 start_min)
{
	__u64 p = s->pending.minute;

	return p < now / MINUTE_S && p >= start_min &&
	       minute_is_bad(s, s->pending.good, s->pending.total);
}

/* the pending minute, as if closed at now: 1 if it had events, over and from start_min on */
static __u64 pending_active(const struct slo *s, __u64 now, __u64 start_min)
{
	__u64 p = s->pending.minute;

	return p < now / MINUTE_S && p >= start_min && s->pending.total;
}

/*
 * Bad and total over the w seconds before now, no earlier than clip_s (a
 * bucket edge, or 0). With timeslices the window ends with the last closed
 * minute and its total is every minute it covers.
 */
static int slo__span(const struct slo *s, __u64 now, __u64 w, __u64 clip_s, struct slo_span *out)
{
	struct slo_counts sum;
	__u64 k, width, first, last, m, start_min;
	unsigned int l;
	__u32 n[SLO_LEVELS];

	for (l = 0; l < SLO_LEVELS; l++)
		n[l] = s->ring[l].n;
	if (layout__pick(n, s->timeslices, w, &l, &k))
		return -EINVAL;
	width = s->ring[l].width_s;
	m = now / MINUTE_S;
	last = s->timeslices ? (m * MINUTE_S - 1) / width : now / width;
	first = last - k + 1;
	if (clip_s && first < (clip_s + width - 1) / width)
		first = (clip_s + width - 1) / width;
	ring__sum(&s->ring[l], first, last, &sum);
	out->bad = sum.total - sum.good;
	out->total = sum.total;
	out->events = sum.total;
	if (!s->timeslices)
		return 0;
	start_min = first * width / MINUTE_S;
	if (m <= start_min) {
		out->bad = 0;
		out->total = 0;
		out->events = 0;
		return 0;
	}
	out->bad += pending_bad(s, now, start_min);
	out->events += pending_active(s, now, start_min);
	out->total = m - start_min;
	return 0;
}

static void slo__window(const struct slo *s, __u64 now, struct slo_window *w)
{
	struct slo_span span;
	__u64 m, start_min;

	memset(w, 0, sizeof(*w));
	if (!is_calendar(s->kind)) {
		w->start_s = now - s->window_s;
		w->end_s = now;
		w->length_s = s->window_s;
		/* the rolling window's own level always serves it */
		slo__span(s, now, s->window_s, 0, &span);
		w->total = span.total;
		w->good = span.total - span.bad;
		w->events = span.events;
		w->budget_total = s->timeslices ? s->window_s / MINUTE_S : w->total;
		return;
	}
	slo__calendar_period(s->kind, now, &w->start_s, &w->end_s);
	w->length_s = w->end_s - w->start_s;
	w->clip_s = w->start_s;
	if (!s->timeslices) {
		/* a period the records have not reached yet is empty: no debt */
		if (s->period.start_s == w->start_s) {
			w->good = s->period.good;
			w->total = s->period.total;
		}
		w->events = w->total;
		w->budget_total = w->total;
		return;
	}
	m = now / MINUTE_S;
	start_min = w->start_s / MINUTE_S;
	w->total = m - start_min;
	w->good = w->total - pending_bad(s, now, start_min);
	w->events = pending_active(s, now, start_min);
	if (s->period.start_s == w->start_s) {
		w->good -= s->period.total - s->period.good;
		w->events += s->period.total;	/* close_minute() counts the minutes with events */
	}
	w->budget_total = w->length_s / MINUTE_S;
}

/* Bad events (or minutes) of the last w seconds inside the SLO window. */
static __u64 slo__recent_bad(const struct slo *s, __u64 now, const struct slo_window *win, __u64 w)
{
	struct slo_span span;

	if (!win->clip_s && s->window_s <= w)
		return win->total - win->good;
	if (slo__span(s, now, w, win->clip_s, &span))
		return 0;
	return span.bad;
}

/* bad / (budget * total), as a fraction of the budget */
static double budget_fraction(const struct slo *s, __u64 bad, __u64 total)
{
	if (!total)
		return 0;
	/* both products are exact below 2^53: 6/1000 at 0.3% is exactly 2 */
	return (double)bad * (double)SLO_PPB / ((double)total * (double)s->budget_ppb);
}

/* bad / (budget * total) >= pct / 100, exactly (pct <= 100) */
static bool budget_fraction_ge(const struct slo *s, __u64 bad, __u64 total, __u64 pct)
{
	return total && mul_ge(bad, SLO_PPB * 100, pct * s->budget_ppb, total);
}

static __u64 clamp_now(const struct slo *s, __u64 now_s)
{
	if (now_s < s->last_s)
		return s->last_s;
	return now_s > SLO_TIME_MAX_S ? SLO_TIME_MAX_S : now_s;
}

void slo__take_counters(struct slo *to, const struct slo *from)
{
	to->process_good = from->process_good;
	to->process_events = from->process_events;
}

void slo__status(const struct slo *s, __u64 now_s, struct slo_status *out)
{
	__u64 now = clamp_now(s, now_s), bad;
	struct slo_window win;
	struct slo_span span;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->good_total = s->good_total;
	out->events_total = s->events_total;
	out->process_good_total = s->process_good;
	out->process_events_total = s->process_events;
	out->late_events_total = s->late_events;
	out->rejected_records_total = s->rejected;
	slo__window(s, now, &win);
	out->window_good = win.good;
	out->window_total = win.total;
	out->window_start_s = win.start_s;
	out->window_end_s = win.end_s;
	out->sli = win.total ? (double)win.good / (double)win.total : NAN;
	out->error_budget = (double)s->budget_ppb / (double)SLO_PPB;
	bad = win.total - win.good;
	out->window_events = win.events;
	out->insufficient_data = win.events < s->min_events;
	out->budget_remaining = 1 - budget_fraction(s, bad, win.budget_total);
	for (i = 0; i < SLO_BURN_WINDOWS; i++) {
		/* every level serves these windows */
		slo__span(s, now, slo_burn_window_s[i], 0, &span);
		out->burn_rate[i] = budget_fraction(s, span.bad, span.total);
	}
	out->budget_consumed_24h =
		budget_fraction(s, slo__recent_bad(s, now, &win, SLO_POLICY_FAST_BURN_S),
				win.budget_total);
	out->budget_consumed_7d =
		budget_fraction(s, slo__recent_bad(s, now, &win, SLO_POLICY_SLOW_BURN_S),
				win.budget_total);
	out->depletion_per_hour = out->burn_rate[SLO_BURN_1H] * (double)HOUR_S /
				  (double)win.length_s;
	if (budget_fraction_ge(s, bad, win.budget_total, 100))
		out->exhaustion_s = 0;
	else if (out->burn_rate[SLO_BURN_1H] == 0)
		out->exhaustion_s = INFINITY;
	else
		out->exhaustion_s = out->budget_remaining * (double)win.length_s /
				    out->burn_rate[SLO_BURN_1H];
	if (out->insufficient_data) {
		/* too few events to know what is left: say so rather than guess */
		out->budget_remaining = NAN;
		out->budget_consumed_24h = NAN;
		out->budget_consumed_7d = NAN;
		out->exhaustion_s = NAN;
	}
}

/* bad / total >= factor * budget, exactly */
static bool burn_ge(const struct slo *s, const struct slo_span *span, __u64 factor_micro)
{
	const __u64 scale = SLO_PPB * FACTOR_SCALE;

	/*
	 * factor * budget above 1 (100% errors) is never reached, and its
	 * product would overflow 64 bits below
	 */
	if (!span->total || factor_micro > scale / s->budget_ppb)
		return false;
	return mul_ge(span->bad, scale, factor_micro * s->budget_ppb, span->total);
}

bool slo__burn_alert(const struct slo *s, __u64 now_s, const struct slo_alert_rule *rule)
{
	__u64 now = clamp_now(s, now_s), factor_micro;
	struct slo_span span;

	if (!rule || !(rule->factor > 0 && rule->factor <= FACTOR_MAX))
		return false;
	factor_micro = (__u64)(rule->factor * (double)FACTOR_SCALE + 0.5);
	if (slo__span(s, now, rule->long_s, 0, &span) || span.events < s->min_events ||
	    !burn_ge(s, &span, factor_micro))
		return false;
	if (!rule->short_s)
		return true;
	return !slo__span(s, now, rule->short_s, 0, &span) && burn_ge(s, &span, factor_micro);
}

unsigned int slo__policy(const struct slo *s, __u64 now_s)
{
	__u64 now = clamp_now(s, now_s), bad;
	struct slo_status st;
	struct slo_window win;
	unsigned int mask = 0;

	slo__window(s, now, &win);
	if (win.events < s->min_events)
		return 0;
	bad = win.total - win.good;
	if (budget_fraction_ge(s, bad, win.budget_total, 100)) {
		mask |= SLO_POLICY_EXHAUSTION;
	} else if (is_calendar(s->kind)) {
		slo__status(s, now, &st);
		if (st.exhaustion_s < (double)(win.end_s - now))
			mask |= SLO_POLICY_EXHAUSTION;
	}
	if (budget_fraction_ge(s, bad, win.budget_total, SLO_POLICY_PERIOD_PCT))
		mask |= SLO_POLICY_PERIOD_BUDGET;
	if (budget_fraction_ge(s, slo__recent_bad(s, now, &win, SLO_POLICY_FAST_BURN_S),
			       win.budget_total, SLO_POLICY_FAST_BURN_PCT))
		mask |= SLO_POLICY_FAST_BURN;
	if (budget_fraction_ge(s, slo__recent_bad(s, now, &win, SLO_POLICY_SLOW_BURN_S),
			       win.budget_total, SLO_POLICY_SLOW_BURN_PCT))
		mask |= SLO_POLICY_SLOW_BURN;
	return mask;
}

/* ---- persistence ------------------------------------------------------- */

/*
 * Format, version 1, little-endian:
 *   0 magic "SLOS", u32 version, u32 length (all bytes), u32 flags (bit 0:
 *     timeslices), u32 window kind, u32 levels
 *  24 u64 window_s, objective_ppb, target_ppb
 *  48 u64 created_s, last_s, good_total, events_total, late, rejected
 *  96 u64 period start, good, total
 * 120 u64 pending minute, good, total
 * 144 per level: u32 width, u32 buckets, u64 head
 * 208 per level, per bucket from index 0: u64 good, u64 total
 * end - 8: u64 FNV-1a of everything before
 */
#define STATE_MAGIC		"SLOS"
#define STATE_HEADER_LEN	208
#define STATE_FLAG_TIMESLICES	1u

struct cursor {
	unsigned char *w;
	const unsigned char *r;
};

static void put32(struct cursor *c, __u32 v)
{
	le32_put(c->w, v);
	c->w += sizeof(v);
}

static void put64(struct cursor *c, __u64 v)
{
	le64_put(c->w, v);
	c->w += sizeof(v);
}

static __u32 get32(struct cursor *c)
{
	c->r += sizeof(__u32);
	return le32_get(c->r - sizeof(__u32));
}

static __u64 get64(struct cursor *c)
{
	c->r += sizeof(__u64);
	return le64_get(c->r - sizeof(__u64));
}

static size_t state_len(size_t slots)
{
	return STATE_HEADER_LEN + slots * 2 * sizeof(__u64) + sizeof(__u64);
}

int slo__serialize(const struct slo *s, void *buf, size_t len)
{
	struct cursor c = { .w = buf };
	size_t need, slots = 0, i;
	unsigned int l;

	if (!s)
		return -EINVAL;
	for (l = 0; l < SLO_LEVELS; l++)
		slots += s->ring[l].n;
	need = state_len(slots);
	if (!buf || len < need)
		return need;
	memcpy(c.w, STATE_MAGIC, 4);
	c.w += 4;
	put32(&c, SLO_STATE_VERSION);
	put32(&c, need);
	put32(&c, s->timeslices ? STATE_FLAG_TIMESLICES : 0);
	put32(&c, s->kind);
	put32(&c, SLO_LEVELS);
	put64(&c, s->window_s);
	put64(&c, s->objective_ppb);
	put64(&c, s->target_ppb);
	put64(&c, s->created_s);
	put64(&c, s->last_s);
	put64(&c, s->good_total);
	put64(&c, s->events_total);
	put64(&c, s->late_events);
	put64(&c, s->rejected);
	put64(&c, s->period.start_s);
	put64(&c, s->period.good);
	put64(&c, s->period.total);
	put64(&c, s->pending.minute);
	put64(&c, s->pending.good);
	put64(&c, s->pending.total);
	for (l = 0; l < SLO_LEVELS; l++) {
		put32(&c, s->ring[l].width_s);
		put32(&c, s->ring[l].n);
		put64(&c, s->ring[l].head);
	}
	for (l = 0; l < SLO_LEVELS; l++) {
		for (i = 0; i < s->ring[l].n; i++) {
			put64(&c, s->ring[l].slot[i].good);
			put64(&c, s->ring[l].slot[i].total);
		}
	}
	put64(&c, fnv1a64(FNV1A64_OFFSET, buf, need - sizeof(__u64)));
	return need;
}

/* Reads and checks every bucket of ring l against the header fields already in s. */
static int state__read_ring(struct slo *s, unsigned int l, struct cursor *c)
{
	struct slo_ring *r = &s->ring[l];
	__u64 good = 0, total = 0, first = s->created_s / r->width_s, b;
	__u32 i;

	for (i = 0; i < r->n; i++) {
		r->slot[i].good = get64(c);
		r->slot[i].total = get64(c);
		if (r->slot[i].good > r->slot[i].total)
			return -EINVAL;
		/* the bucket number slot i holds: the newest one <= head congruent to i */
		b = r->head - (r->idx + r->n - i) % r->n;
		if (b < first && r->slot[i].total)
			return -EINVAL;
		/*
		 * With timeslices a bucket counts minutes, at most its width's,
		 * and the newest only those closed before the pending one: more,
		 * and closing it would count a minute its bucket has no room for
		 * (found by the state fuzzer: a state that did not load again).
		 */
		if (s->timeslices && r->slot[i].total > (b == r->head ?
				s->pending.minute - b * (r->width_s / MINUTE_S) :
				r->width_s / MINUTE_S))
			return -EINVAL;
		good += r->slot[i].good;
		total += r->slot[i].total;
		if (total < r->slot[i].total)
			return -EINVAL;
	}
	if (!s->timeslices && (total > s->events_total || good > s->good_total))
		return -EINVAL;
	return 0;
}

static int state__read(struct slo *s, const struct slo_layout *lay, const unsigned char *buf,
		       size_t len)
{
	struct cursor c = { .r = buf };
	__u64 start, end;
	unsigned int l;

	if (memcmp(c.r, STATE_MAGIC, 4))
		return -EINVAL;
	c.r += 4;
	if (get32(&c) != SLO_STATE_VERSION || get32(&c) != len ||
	    get32(&c) != (lay->timeslices ? STATE_FLAG_TIMESLICES : 0) ||
	    get32(&c) != (__u32)lay->kind || get32(&c) != SLO_LEVELS)
		return -EINVAL;
	if (get64(&c) != lay->window_s || get64(&c) != lay->objective_ppb ||
	    get64(&c) != lay->target_ppb)
		return -EINVAL;
	s->created_s = get64(&c);
	s->last_s = get64(&c);
	s->good_total = get64(&c);
	s->events_total = get64(&c);
	s->late_events = get64(&c);
	s->rejected = get64(&c);
	/* last_s > now_s: the clock went back since, see slo__deserialize() */
	if (s->created_s < SLO_TIME_MIN_S || s->last_s < s->created_s ||
	    s->last_s > SLO_TIME_MAX_S ||
	    s->good_total > s->events_total || s->late_events > s->events_total)
		return -EINVAL;
	s->tick_end_s = (s->last_s / s->tick_s + 1) * s->tick_s;

	s->period.start_s = get64(&c);
	s->period.good = get64(&c);
	s->period.total = get64(&c);
	s->pending.minute = get64(&c);
	s->pending.good = get64(&c);
	s->pending.total = get64(&c);
	if (is_calendar(s->kind)) {
		slo__calendar_period(s->kind, s->last_s, &start, &end);
		if (s->period.start_s != start || s->period.good > s->period.total)
			return -EINVAL;
		s->period.end_s = end;
		/* closed minutes of the period, or its events */
		if (s->timeslices ? s->period.total > s->last_s / MINUTE_S - start / MINUTE_S
				  : s->period.total > s->events_total)
			return -EINVAL;
	} else if (s->period.start_s || s->period.good || s->period.total) {
		return -EINVAL;
	}
	if (s->timeslices) {
		if (s->pending.minute != s->last_s / MINUTE_S ||
		    s->pending.good > s->pending.total || s->pending.total > s->events_total)
			return -EINVAL;
	} else if (s->pending.minute || s->pending.good || s->pending.total) {
		return -EINVAL;
	}

	for (l = 0; l < SLO_LEVELS; l++) {
		struct slo_ring *r = &s->ring[l];

		if (get32(&c) != r->width_s || get32(&c) != r->n)
			return -EINVAL;
		r->head = get64(&c);
		if (r->head != (r->n ? s->last_s / r->width_s : 0))
			return -EINVAL;
		r->idx = r->n ? r->head % r->n : 0;
	}
	for (l = 0; l < SLO_LEVELS; l++) {
		if (state__read_ring(s, l, &c))
			return -EINVAL;
	}
	return 0;
}

struct slo *slo__deserialize(const struct slo_spec *spec, const void *buf, size_t len,
			     __u64 now_s)
{
	const unsigned char *p = buf;
	struct slo_layout lay;
	struct cursor c;
	struct slo *s;

	if (layout__init(&lay, spec) || !buf || len != state_len(lay.slots) ||
	    now_s < SLO_TIME_MIN_S || now_s > SLO_TIME_MAX_S) {
		errno = EINVAL;
		return NULL;
	}
	c.r = p + len - sizeof(__u64);
	if (get64(&c) != fnv1a64(FNV1A64_OFFSET, p, len - sizeof(__u64))) {
		errno = EINVAL;
		return NULL;
	}
	s = slo__alloc(&lay);
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	if (state__read(s, &lay, p, len)) {
		free(s);
		errno = EINVAL;
		return NULL;
	}
	if (now_s >= s->tick_end_s)
		slo__advance(s, now_s);
	else if (now_s >= s->last_s)
		s->last_s = now_s;
	else
		slo__clock(s, now_s);	/* saved after now: waits, or moves back */
	return s;
}

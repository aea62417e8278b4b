/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layer 2, events: a request's struct http_event staged in its CPU's batch
 * and sent to the ring buffer sixteen at a time, or reserved on the ring
 * directly. Uses maps and counters.
 */
#ifndef SLOTAP_EVENTS_BPF_H
#define SLOTAP_EVENTS_BPF_H

/*
 * Waking the consumer costs ~1.5 us an event: let it poll instead, unless
 * a backlog builds up.
 */
static __always_inline __u64 wakeup_flag(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	count_stat(STAT_WAKEUPS);
	return BPF_RB_FORCE_WAKEUP;
}

/* A ring buffer record for one event; NULL, counted, when the ring is full. */
static __always_inline struct http_event *event_reserve(void)
{
	struct http_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		count_loss(LOSS_RINGBUF_FULL);
	return e;
}

/* A ring buffer record for an event of kind, zeroed but for these; NULL, counted, when full. */
static __always_inline struct http_event *event_new(__u8 kind, __u8 flags, __u8 failure)
{
	struct http_event *e = event_reserve();

	if (!e)
		return NULL;
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->flags = flags;
	e->failure = failure;
	return e;
}

static __always_inline void event_submit(struct http_event *e)
{
	bpf_ringbuf_submit(e, wakeup_flag());
	count_stat(STAT_EVENTS_SUBMITTED);
}

/* The staged events of this CPU into the ring buffer, as one record. */
static __always_inline void batch_flush(struct event_batch *b)
{
	__u32 n = b->n;

	if (!n)
		return;
	if (n > HTTP_EVENT_BATCH_MAX)
		n = HTTP_EVENT_BATCH_MAX;	/* cannot happen; bounds the size */
	if (bpf_ringbuf_output(&events, b->ev, n * sizeof(b->ev[0]), wakeup_flag()))
		count_loss_n(LOSS_RINGBUF_FULL, n);
	else
		count_stat_n(STAT_EVENTS_SUBMITTED, n);
	b->n = 0;
}

/*
 * Where the next request event of this CPU goes: a slot of its batch, or,
 * when the batch is in use by the program this one interrupted (a socket
 * state change in softirq, say), a ring buffer record of its own. *batch
 * says which, for event_commit(). NULL, counted, when the ring is full.
 */
static __always_inline struct http_event *event_stage(struct event_batch **batch)
{
	struct event_batch *b;
	__u32 zero = 0, n;

	b = bpf_map_lookup_elem(&event_batches, &zero);
	if (b && !b->busy) {
		b->busy = 1;
		barrier();	/* same CPU only: the compiler must keep the order */
		n = b->n;
		if (n >= HTTP_EVENT_BATCH_MAX) {
			n = 0;	/* cannot happen: full batches are flushed at once */
			b->n = 0;
		}
		*batch = b;
		return &b->ev[n];
	}
	*batch = NULL;
	return event_reserve();
}

static __always_inline void event_commit(struct http_event *e, struct event_batch *b)
{
	if (!b) {
		event_submit(e);
		return;
	}
	if (++b->n >= HTTP_EVENT_BATCH_MAX)
		batch_flush(b);
	barrier();
	b->busy = 0;
}

/*
 * This CPU's staged events into the ring buffer, unless the program this
 * run interrupted is writing them (they go with the next flush). Returns
 * the events flushed.
 */
static __always_inline int events_flush(void)
{
	struct event_batch *b;
	__u32 zero = 0, n;

	b = bpf_map_lookup_elem(&event_batches, &zero);
	if (!b || b->busy)
		return 0;
	n = b->n;
	batch_flush(b);
	return n;
}

#endif /* SLOTAP_EVENTS_BPF_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layer 1, maps: every map of the object, one comment each. Uses state.
 */
#ifndef SLOTAP_MAPS_BPF_H
#define SLOTAP_MAPS_BPF_H

/*
 * Per-connection state, in the socket's own storage: found from the
 * struct sock the socket tracepoints hand us, freed with the socket.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HTTP_PIPELINE_SPILL_MAX);
	__type(key, struct spill_key);
	__type(value, struct pending_req);
} pipeline_spill SEC(".maps");

/*
 * What slotap knows of each local port, indexed by port: an array, so that
 * the test every socket operation of the node starts with is an inlined
 * lookup. A socket whose local port is listened on is the server side of a
 * connection; any other (a client's) is dismissed right there.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct port_info);
} ports SEC(".maps");

/*
 * Service filters by process, filled by the loader from the config and
 * kept current by the agent: by cgroup v2 id (the directory's inode
 * number), by executable file (see struct exe_key) and by executable name.
 * What a process says about itself (its comm, its argv) is in none of
 * them: any process changes those with one call.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SERVICE_CGROUPS_MAX);
	__type(key, __u64);
	__type(value, __u16);
} service_by_cgroup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SERVICE_EXES_MAX);
	__type(key, struct exe_key);
	__type(value, __u16);
} service_by_exe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct exe_name_key);
	__type(value, __u16);
} service_by_exe_name SEC(".maps");

/*
 * Processes that served a tracked connection or listen on a service's
 * port, and as which service: their outbound connections are the service's
 * dependencies, and the agent's socket sweeps enter their network
 * namespaces. LRU: a process that stops serving ages out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SERVING_TGIDS_MAX);
	__type(key, __u32);
	__type(value, __u16);
} serving_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);	/* resized by the loader */
} events SEC(".maps");

/*
 * A CPU's request events on their way to the ring buffer. A ring buffer
 * reserve and commit cost ~150 ns an event here, mostly locked operations
 * waiting on the ring's cold cache lines; staged in this warm per-CPU
 * buffer, HTTP_EVENT_BATCH_MAX events share one. The agent flushes what is
 * staged before every drain (slotap_flush_events), so none waits long.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_batch);
} event_batches SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOSS_REASON_MAX);
	__type(key, __u32);
	__type(value, __u64);
} loss_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stat_counters SEC(".maps");

/*
 * HTTP/2 records (include/h2_record.h): a ring of their own, sized as
 * events by the loader, so that each ring's loss is counted apart and the
 * batches of events keep their layout.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);	/* resized by the loader */
} h2_records SEC(".maps");

/* An HTTP/2 socket operation's walk and the record it builds (http2_state.bpf.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct h2_scratch);
} h2_scratch SEC(".maps");

/* Per-CPU copy of the bytes being parsed: too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scan_buf);
} scan_scratch SEC(".maps");

/*
 * Sockets seen and found not to be selected server connections: a byte of
 * storage each, so that their I/O costs one lookup, not a classification.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
} ignored_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct gone_key);
	__type(value, __u8);
} gone_conns SEC(".maps");

/*
 * TLS (docs/tls.md): the calls into the library in progress, by pid_tgid.
 * LRU: a thread that dies inside a call leaves its entry, which ages out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

/* TLS: which connection an SSL * was last seen on, for calls with no socket operation. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tls_ssl_key);
	__type(value, struct tls_bound);
} tls_ssl SEC(".maps");

/*
 * TLS: a read's plaintext not parsed yet, by connection; deleted when
 * parsed or closed. Not preallocated: 2 KiB an entry in use, none else.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, struct tls_conn_key);
	__type(value, struct tls_read);
} tls_pending SEC(".maps");

/*
 * TLS, per CPU: [0] the head of the read being parsed (capture_load()),
 * [1] the uretprobe's new tls_pending entry.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct tls_read);
} tls_scratch SEC(".maps");

/*
 * TLS: HTTP/2 over TLS, walked by the uprobes, which cannot reach a
 * socket's storage: a copy of each TLS connection (its identity for the
 * records, its framing state), made at its first socket operation in an
 * SSL call, kept while it is HTTP/2 or not classified yet, deleted at the
 * close (tls.bpf.h). Not preallocated; full: counted tls_http2.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, struct tls_conn_key);
	__type(value, struct conn);
} tls_h2 SEC(".maps");

/*
 * TLS: whether a connection's last SSL_do_handshake failed (returned <= 0),
 * decided at its close. LRU: a connection whose close is not seen ages out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct tls_conn_key);
	__type(value, __u8);
} tls_handshakes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct listen_state);
} listeners SEC(".maps");

/* Listen drops per configured service id, cumulative; sized by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} listen_drops SEC(".maps");

/* Segments retransmitted on tracked server connections, per service. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct service_key);
	__type(value, __u64);
} retransmits SEC(".maps");

#endif /* SLOTAP_MAPS_BPF_H */

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "config.h"
#include "slotap.skel.h"
#include "http_source.h"
#include "log.h"
#include "redis_names.h"
#include "netns.h"
#include "util.h"

_Static_assert(sizeof(struct http_event) == 168, "http_event layout is ABI with the BPF side");
_Static_assert(sizeof(struct event_batch) % 8 == 0, "per-CPU values are 8-byte strided");
_Static_assert(sizeof(struct exe_name_key) == EXE_NAME_LEN, "exe name key has no padding");
_Static_assert(sizeof(struct exe_key) == 8, "exe_key layout is ABI with the BPF side");
_Static_assert(sizeof(struct port_info) == 16, "port_info layout is ABI with the BPF side");
_Static_assert(sizeof(struct service_key) == 20, "service_key layout is ABI with the BPF side");

/* A retransmit counter as last reported. */
struct retransmit_seen {
	struct service_key key;
	__u64 count;
};

struct http_source {
	struct slotap_bpf *skel;
	struct bpf_link *timeouts;	/* the request timeout sweep's iterator */
	/* TLS uprobes: TLS_PROBES_MAX for each file probed (http_source__attach_tls()) */
	bool tls;
	struct bpf_link **tls_links;
	size_t n_tls_links, cap_tls_links;
	/* the namespaces whose TCP sockets the iter/tcp sweeps walk besides ours */
	struct netns_set *netns;
	__u64 netns_refreshed_ns;
	struct ring_buffer *rb;
	__u64 *drops_seen;		/* listen_drops as last reported, by service id */
	__u32 n_services;
	struct retransmit_seen *rtx_seen;
	size_t n_rtx_seen, cap_rtx_seen;
	http_event_fn on_event;
	h2_record_fn on_h2_record;
	void *ctx;
	__u64 h2_received[H2_RECEIVED_MAX];	/* kept here: read under the agent's lock */
	int ncpus;
	struct event_batch *batches;	/* every CPU's, as last read */
	bool flush_warned;
};

static const char *const loss_names[LOSS_REASON_MAX] = {
	[LOSS_RINGBUF_FULL] = "ringbuf_full",
	[LOSS_CONN_MAP_FULL] = "conn_map_full",
	[LOSS_NOT_HTTP] = "not_http",
	[LOSS_UNPARSABLE_RESPONSE] = "unparsable_response",
	[LOSS_TRUNCATED] = "truncated",
	[LOSS_PIPELINE_OVERFLOW] = "pipeline_overflow",
	[LOSS_UNMATCHED_RESPONSE] = "unmatched_response",
	[LOSS_SERVICE_MAP_FULL] = "service_map_full",
	[LOSS_UNPARSABLE_REQUEST] = "unparsable_request",
	[LOSS_UNFRAMED] = "unframed",
	[LOSS_H2_RINGBUF_FULL] = "h2_ringbuf_full",
	[LOSS_H2_UNFRAMED] = "h2_unframed",
	[LOSS_TLS_UNREAD] = "tls_unread",
	[LOSS_TLS_NO_PLAINTEXT] = "tls_no_plaintext",
	[LOSS_TLS_HTTP2] = "tls_http2",
};
_Static_assert(sizeof(loss_names) / sizeof(loss_names[0]) == LOSS_REASON_MAX,
	       "every loss reason has a name");

static const char *const h2_received_names[H2_RECEIVED_MAX] = {
	[H2_RECEIVED_OPEN] = "open",
	[H2_RECEIVED_OPEN_MIDSTREAM] = "open_midstream",
	[H2_RECEIVED_IO] = "io",
	[H2_RECEIVED_END] = "end",
	[H2_RECEIVED_MALFORMED] = "malformed",
	[H2_RECEIVED_REQUEST_BLOCKS] = "request_header_block",
	[H2_RECEIVED_RESPONSE_BLOCKS] = "response_header_block",
};


const char *http_loss_reason__name(enum http_loss_reason reason)
{
	return reason < LOSS_REASON_MAX ? loss_names[reason] : "unknown";
}

const char *h2_received__name(enum h2_received what)
{
	return what < H2_RECEIVED_MAX ? h2_received_names[what] : "unknown";
}

int h2_record__count(const struct h2_record *r, size_t len, __u64 *counts)
{
	size_t off = sizeof(*r), end;

	if (len < sizeof(*r) || sizeof(*r) + (size_t)r->items_len > len) {
		counts[H2_RECEIVED_MALFORMED]++;
		return -EBADMSG;
	}
	switch (r->kind) {
	case H2_REC_OPEN:
		counts[H2_RECEIVED_OPEN]++;
		if (r->flags & H2_REC_MIDSTREAM)
			counts[H2_RECEIVED_OPEN_MIDSTREAM]++;
		return 0;
	case H2_REC_END:
		counts[H2_RECEIVED_END]++;
		return 0;
	case H2_REC_IO:
		counts[H2_RECEIVED_IO]++;
		break;
	default:
		counts[H2_RECEIVED_MALFORMED]++;
		return -EBADMSG;
	}
	end = sizeof(*r) + r->items_len;
	while (off < end) {
		const struct h2_item *it = (const void *)((const char *)r + off);

		if (end - off < sizeof(*it)) {
			counts[H2_RECEIVED_MALFORMED]++;
			return -EBADMSG;
		}
		off += sizeof(*it);
		if (it->kind == H2_ITEM_BLOCK || it->kind == H2_ITEM_UPGRADE)
			off += ((size_t)it->len + 3) & ~(size_t)3;
		if ((it->kind == H2_ITEM_BLOCK || it->kind == H2_ITEM_TRUNCATED) &&
		    (it->flags & H2_IF_FIRST))
			counts[r->dir ? H2_RECEIVED_RESPONSE_BLOCKS : H2_RECEIVED_REQUEST_BLOCKS]++;
	}
	if (off != end) {
		counts[H2_RECEIVED_MALFORMED]++;
		return -EBADMSG;
	}
	return 0;
}

/*
 * An HTTP/2 record: counted, checked, and to the callback. A malformed
 * one is counted and skipped: the callback never sees it.
 */
static int handle_h2_record(void *ctx, void *data, size_t size)
{
	struct http_source *src = ctx;

	if (h2_record__count(data, size, src->h2_received))
		return 0;
	return src->on_h2_record ? src->on_h2_record(src->ctx, data, size) : 0;
}

/* A record is one event, or a CPU's staged ones back to back (event_batch). */
static int handle_sample(void *ctx, void *data, size_t size)
{
	struct http_source *src = ctx;
	const struct http_event *e = data;
	int err = 0;

	for (size_t i = 0; !err && i < size / sizeof(*e); i++)
		err = src->on_event(src->ctx, &e[i]);
	return err;
}

static bool btf_has_type(const char *name)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	bool found;

	if (!vmlinux)
		return true;	/* let the load itself fail and explain */
	found = btf__find_by_name(vmlinux, name) > 0;
	btf__free(vmlinux);
	return found;
}

/*
 * Parameters of a tracepoint's BTF prototype, its context first; -1 if the
 * kernel has no such tracepoint (or no BTF for it).
 */
static int tracepoint_params(const struct btf *vmlinux, const char *tp)
{
	const struct btf_type *t;
	char name[128];
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return -1;
	t = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, id)->type);
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(vmlinux, t->type);
	return t && btf_is_func_proto(t) ? btf_vlen(t) : -1;
}

/*
 * Whether the kernel lets us load an iterator over a socket storage map:
 * some hardened kernels refuse map element iterators with EPERM while
 * iter/tcp loads. A two-instruction program answers it before the real
 * load, where a refusal would cost a second verification of everything.
 */
static bool sk_storage_iterator_loads(const struct btf *vmlinux)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_ITER);
	int id = btf__find_by_name_kind(vmlinux, "bpf_iter_bpf_sk_storage_map", BTF_KIND_FUNC);
	int fd;

	if (id <= 0)
		return false;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "slotap_probe", "Dual BSD/GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), &opts);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * The transport failure hooks are optional: a kernel without one still
 * measures requests, and says in one line what it does not count.
 */
static void probe_transport_hooks(struct http_source *src)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct slotap_bpf *skel = src->skel;
	bool tcp_iter;

	if (!vmlinux) {
		log__warn("cannot read the kernel's BTF (%s): refused connections, listen queue "
			  "drops and retransmits are not counted", strerror(errno));
		bpf_program__set_autoload(skel->progs.slotap_tcp_send_reset, false);
		bpf_program__set_autoload(skel->progs.slotap_tcp_retransmit, false);
		bpf_program__set_autoload(skel->progs.slotap_listen_drops, false);
		return;
	}
	/* (ctx, sk, skb, reason): the form that also reports resets with no socket */
	if (tracepoint_params(vmlinux, "tcp_send_reset") != 4) {
		log__warn("kernel lacks the tracepoint tcp:tcp_send_reset with the reset reason: "
			  "refused connections (reason refused) are not counted");
		bpf_program__set_autoload(skel->progs.slotap_tcp_send_reset, false);
	}
	/* (ctx, sk, skb, err) */
	if (tracepoint_params(vmlinux, "tcp_retransmit_skb") != 4) {
		log__warn("kernel lacks the tracepoint tcp:tcp_retransmit_skb with its error "
			  "argument: slotap_tcp_retransmits_total is not counted");
		bpf_program__set_autoload(skel->progs.slotap_tcp_retransmit, false);
	}
	tcp_iter = btf__find_by_name_kind(vmlinux, "bpf_iter__tcp", BTF_KIND_STRUCT) > 0;
	if (!tcp_iter) {
		log__warn("kernel has no TCP socket iterator (iter/tcp): listen queue drops "
			  "(reason listen_overflow) are not counted");
		bpf_program__set_autoload(skel->progs.slotap_listen_drops, false);
	}
	/* the request timeout sweep: one of its two forms, or none */
	if (sk_storage_iterator_loads(vmlinux)) {
		bpf_program__set_autoload(skel->progs.slotap_request_timeouts_tcp, false);
	} else {
		bpf_program__set_autoload(skel->progs.slotap_request_timeouts, false);
		if (tcp_iter) {
			/* the same connections, found among every TCP socket */
			log__info("kernel refuses socket storage iterators "
				  "(iter/bpf_sk_storage_map): request timeouts are swept over the "
				  "TCP sockets of each network namespace a service is in");
		} else {
			log__warn("kernel has neither socket storage nor TCP socket iterators: "
				  "requests are not timed out (reason timeout is not counted)");
			bpf_program__set_autoload(skel->progs.slotap_request_timeouts_tcp, false);
		}
	}
	btf__free(vmlinux);
}

/*
 * Matching by cgroup: off without cgroups in the config (no lookups on the
 * path of a new connection); a configured cgroup's descendants too where
 * the kernel has bpf_get_current_ancestor_cgroup_id() (Linux 5.6).
 */
static void configure_cgroup_match(struct http_source *src, const struct slotap_config *cfg)
{
	bool any = false;

	for (size_t i = 0; i < cfg->n_services && !any; i++)
		any = cfg->services[i].n_cgroups > 0;
	src->skel->rodata->match_cgroups = any;
	src->skel->rodata->match_cgroup_ancestors = any &&
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT,
					BPF_FUNC_get_current_ancestor_cgroup_id, NULL) == 1;
	if (any && !src->skel->rodata->match_cgroup_ancestors)
		log__warn("kernel lacks bpf_get_current_ancestor_cgroup_id() (Linux 5.6): a "
			  "configured cgroup matches the processes directly in it, not those "
			  "in the cgroups below it");
}

/* Explain, in one line, why the kernel refused us. */
static int probe_kernel(void)
{
	if (geteuid() != 0) {
		log__error("needs root (CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE): run it as root");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		log__error("kernel has no BTF (/sys/kernel/btf/vmlinux missing): "
			   "slotap needs CONFIG_DEBUG_INFO_BTF=y");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL) != 1) {
		log__error("kernel cannot run raw tracepoint BPF programs "
			   "(CONFIG_BPF_EVENTS off, or BPF disabled by lockdown)");
		return -EOPNOTSUPP;
	}
	if (!btf_has_type("btf_trace_sock_recv_length") ||
	    !btf_has_type("btf_trace_sock_send_length")) {
		log__error("kernel lacks the tracepoints sock:sock_recv_length and "
			   "sock:sock_send_length (Linux 6.3 or later needed)");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		log__error("kernel has no BPF ring buffer (Linux 5.8 or later needed)");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SK_STORAGE, NULL) != 1) {
		log__error("kernel has no BPF socket storage (Linux 5.2 or later needed)");
		return -EOPNOTSUPP;
	}
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_loop, NULL) != 1) {
		log__error("kernel has no bpf_loop() helper (Linux 5.17 or later needed)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * The config loader has made sure no port, process or cgroup is in two
 * services. Executable files and cgroups change while the agent runs:
 * services.c keeps those.
 */
static int fill_service_filters(struct http_source *src, const struct slotap_config *cfg)
{
	int ports_fd = bpf_map__fd(src->skel->maps.ports);
	int name_fd = bpf_map__fd(src->skel->maps.service_by_exe_name);

	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct service_config *svc = &cfg->services[i];
		struct port_info info = { .service = i + 1 };
		__u16 id = i;

		for (size_t j = 0; j < svc->n_ports; j++) {
			__u32 port = svc->ports[j];

			if (bpf_map_update_elem(ports_fd, &port, &info, BPF_ANY))
				return -errno;
		}
		for (size_t j = 0; j < svc->n_processes; j++) {
			struct exe_name_key key = {};

			if (svc->processes[j][0] == '/')
				continue;	/* executable paths: see services.c */
			strncpy(key.name, svc->processes[j], sizeof(key.name) - 1);
			if (bpf_map_update_elem(name_fd, &key, &id, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

/*
 * The kernel side learns listening ports from their state changes; the ones
 * that were listening before we attached come from /proc/net/tcp*. Runs
 * after attach, and never overwrites a count the kernel side already keeps.
 */
static int seed_listen_ports(struct http_source *src)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	int fd = bpf_map__fd(src->skel->maps.ports);

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char line[512];
		FILE *f = fopen(files[i], "r");

		if (!f) {
			if (errno == ENOENT)
				continue;	/* no IPv6 */
			return -errno;
		}
		while (fgets(line, sizeof(line), f)) {
			struct port_info info;
			unsigned int state;
			__u32 port;

			/* "  0: 0100007F:1F90 00000000:0000 0A ..." */
			if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &port,
				   &state) != 2 || state != 0x0A || port > 0xffff)
				continue;
			if (bpf_map_lookup_elem(fd, &port, &info) || info.listeners)
				continue;
			info.listeners = 1;
			bpf_map_update_elem(fd, &port, &info, BPF_ANY);
		}
		fclose(f);
	}
	return 0;
}

/* The TLS library functions probed, each by its entry or its return (docs/tls.md). */
#define TLS_PROBES_MAX	10

static struct bpf_program *tls_prog(struct slotap_bpf *skel, int i, const char **func, bool *ret)
{
	struct { struct bpf_program *prog; const char *func; bool ret; } probes[TLS_PROBES_MAX] = {
		{ skel->progs.slotap_ssl_read, "SSL_read", false },
		{ skel->progs.slotap_ssl_read_ret, "SSL_read", true },
		{ skel->progs.slotap_ssl_read_ex, "SSL_read_ex", false },
		{ skel->progs.slotap_ssl_read_ex_ret, "SSL_read_ex", true },
		{ skel->progs.slotap_ssl_write, "SSL_write", false },
		{ skel->progs.slotap_ssl_write_ex, "SSL_write_ex", false },
		{ skel->progs.slotap_ssl_write_ret, "SSL_write", true },
		{ skel->progs.slotap_ssl_write_ex_ret, "SSL_write_ex", true },
		{ skel->progs.slotap_ssl_handshake, "SSL_do_handshake", false },
		{ skel->progs.slotap_ssl_handshake_ret, "SSL_do_handshake", true },
	};

	if (i >= TLS_PROBES_MAX)
		return NULL;
	*func = probes[i].func;
	*ret = probes[i].ret;
	return probes[i].prog;
}

static void detach_tls(struct http_source *src)
{
	for (size_t i = 0; i < src->n_tls_links; i++)
		bpf_link__destroy(src->tls_links[i]);
	src->n_tls_links = 0;
}

/* Off (--no-tls): the TLS programs are not loaded, and their maps take no memory. */
static void configure_tls(struct http_source *src, const struct http_source_opts *opts)
{
	struct slotap_bpf *skel = src->skel;
	struct bpf_program *prog;
	const char *func;
	bool ret;

	src->tls = !opts->no_tls;
	skel->rodata->tls_enabled = src->tls;
	for (int i = 0; (prog = tls_prog(skel, i, &func, &ret)); i++) {
		bpf_program__set_autoattach(prog, false);	/* by path, http_source__attach_tls() */
		bpf_program__set_autoload(prog, src->tls);
	}
	if (!src->tls) {
		bpf_map__set_max_entries(skel->maps.tls_calls, 1);
		bpf_map__set_max_entries(skel->maps.tls_ssl, 1);
		bpf_map__set_max_entries(skel->maps.tls_pending, 1);
		bpf_map__set_max_entries(skel->maps.tls_handshakes, 1);
		bpf_map__set_max_entries(skel->maps.tls_h2, 1);
		bpf_map__set_max_entries(skel->maps.tls_scratch, 1);
	}
}

static libbpf_print_fn_t tls_print_next;

/* libbpf warns of a function a file lacks: expected here, said at debug level */
static int tls_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN)
		level = LIBBPF_DEBUG;
	return tls_print_next ? tls_print_next(level, fmt, args) : 0;
}

int http_source__attach_tls(struct http_source *src, const char *path)
{
	size_t before = src->n_tls_links;
	struct bpf_program *prog;
	const char *func;
	bool ret;

	if (!src->tls)
		return -EOPNOTSUPP;
	if (src->n_tls_links + TLS_PROBES_MAX > src->cap_tls_links) {
		size_t cap = src->cap_tls_links ? 2 * src->cap_tls_links : 4 * TLS_PROBES_MAX;
		struct bpf_link **links = realloc(src->tls_links, cap * sizeof(*links));

		if (!links)
			return -ENOMEM;
		src->tls_links = links;
		src->cap_tls_links = cap;
	}
	/*
	 * A function the file lacks (SSL_read_ex before OpenSSL 1.1.1,
	 * SSL_do_handshake in a stripped executable) is skipped; none of them:
	 * -ENOENT.
	 */
	tls_print_next = libbpf_set_print(tls_print);
	for (int i = 0; (prog = tls_prog(src->skel, i, &func, &ret)); i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = func, .retprobe = ret);
		struct bpf_link *link;

		link = bpf_program__attach_uprobe_opts(prog, -1, path, 0, &uo);
		if (!link) {
			log__debug("%s: no %s to probe: %s", path, func, strerror(errno));
			continue;
		}
		src->tls_links[src->n_tls_links++] = link;
	}
	libbpf_set_print(tls_print_next);
	return src->n_tls_links > before ? (int)(src->n_tls_links - before) : -ENOENT;
}

size_t http_source__serving_tgids(const struct http_source *src, __u32 *out, size_t max)
{
	int fd = bpf_map__fd(src->skel->maps.serving_tgids);
	__u32 key, next;
	size_t n = 0;

	for (int r = bpf_map_get_next_key(fd, NULL, &next); !r && n < max;
	     r = bpf_map_get_next_key(fd, &key, &next)) {
		out[n++] = next;
		key = next;
	}
	return n;
}

int http_source__open(struct http_source **out, const struct http_source_opts *opts)
{
	struct http_source *src;
	int err;

	*out = NULL;
	err = probe_kernel();
	if (err)
		return err;

	src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	src->on_event = opts->on_event;
	src->on_h2_record = opts->on_h2_record;
	src->ctx = opts->ctx;
	src->ncpus = libbpf_num_possible_cpus();
	if (src->ncpus <= 0) {
		err = src->ncpus ? src->ncpus : -EINVAL;
		log__error("cannot count possible CPUs: %s", strerror(-err));
		goto fail;
	}
	src->batches = calloc(src->ncpus, sizeof(*src->batches));
	if (!src->batches) {
		err = -ENOMEM;
		log__error("out of memory");
		goto fail;
	}
	src->netns = netns_set__new();
	if (!src->netns)
		log__warn("cannot open the agent's network namespace (%s): the socket sweeps "
			  "walk its own only", strerror(errno));

	/* open: parse the object, nothing in the kernel yet */
	src->skel = slotap_bpf__open();
	if (!src->skel) {
		err = -errno;
		log__error("cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}

	/* configure: read-only settings and map sizes, before load */
	src->skel->rodata->self_tgid = getpid();
	src->skel->rodata->track_all_listeners = opts->cfg->n_services == 0;
	/* the agent polls often enough not to need it: see main.c */
	src->skel->rodata->wakeup_bytes = opts->ringbuf_bytes / 2;
	bpf_map__set_max_entries(src->skel->maps.events, opts->ringbuf_bytes);
	bpf_map__set_max_entries(src->skel->maps.h2_records, opts->ringbuf_bytes);
	/* the timeout sweep's iterator, either form: attached below (with the map) */
	bpf_program__set_autoattach(src->skel->progs.slotap_request_timeouts, false);
	bpf_program__set_autoattach(src->skel->progs.slotap_request_timeouts_tcp, false);
	src->skel->data->request_timeout_ns = opts->request_timeout_ns;
	src->n_services = opts->cfg->n_services;
	bpf_map__set_max_entries(src->skel->maps.listen_drops,
				 src->n_services ? src->n_services : 1);
	src->drops_seen = calloc(src->n_services ? src->n_services : 1, sizeof(*src->drops_seen));
	if (!src->drops_seen) {
		err = -ENOMEM;
		log__error("out of memory");
		goto fail;
	}
	probe_transport_hooks(src);
	configure_cgroup_match(src, opts->cfg);
	configure_tls(src, opts);

	/* load: the verifier runs here */
	err = slotap_bpf__load(src->skel);
	if (err) {
		if (err == -EPERM)
			log__error("the kernel refused to load BPF programs (%s): "
				   "missing capabilities or kernel lockdown", strerror(-err));
		else
			log__error("the kernel verifier rejected slotap's BPF programs (%s); "
				   "run with -v to see its log", strerror(-err));
		goto fail;
	}
	err = fill_service_filters(src, opts->cfg);
	if (err) {
		log__error("cannot fill the service filters: %s", strerror(-err));
		goto fail;
	}
	err = redis_names__fill(bpf_map__fd(src->skel->maps.redis_names));
	if (err) {
		log__error("cannot fill the Redis command names: %s", strerror(-err));
		goto fail;
	}
	*out = src;
	return 0;
fail:
	http_source__destroy(src);
	return err;
}

/* The request timeout sweep's iterator, in the form the loader chose, if any. */
static int attach_timeout_sweep(struct http_source *src)
{
	struct slotap_bpf *skel = src->skel;

	if (bpf_program__autoload(skel->progs.slotap_request_timeouts)) {
		LIBBPF_OPTS(bpf_iter_attach_opts, iter);
		union bpf_iter_link_info info = {};

		info.map.map_fd = bpf_map__fd(skel->maps.conns);
		iter.link_info = &info;
		iter.link_info_len = sizeof(info);
		src->timeouts = bpf_program__attach_iter(skel->progs.slotap_request_timeouts, &iter);
	} else if (bpf_program__autoload(skel->progs.slotap_request_timeouts_tcp)) {
		src->timeouts = bpf_program__attach_iter(skel->progs.slotap_request_timeouts_tcp,
							 NULL);
	} else {
		return 0;	/* no iterator to sweep with: said at open */
	}
	return src->timeouts ? 0 : -errno;
}

int http_source__start(struct http_source *src)
{
	int err;

	/* attach: from here on, requests are measured */
	err = slotap_bpf__attach(src->skel);
	if (err) {
		log__error("cannot attach to the tracepoints sock:sock_recv_length, "
			   "sock:sock_send_length and sock:inet_sock_set_state: %s", strerror(-err));
		goto fail;
	}

	err = attach_timeout_sweep(src);
	if (err) {
		log__error("cannot attach the request timeout iterator: %s", strerror(-err));
		goto fail;
	}

	err = seed_listen_ports(src);
	if (err) {
		log__error("cannot read the listening sockets from /proc/net: %s", strerror(-err));
		goto fail;
	}

	src->rb = ring_buffer__new(bpf_map__fd(src->skel->maps.events), handle_sample, src, NULL);
	if (!src->rb) {
		err = -errno;
		log__error("cannot map the ring buffer: %s", strerror(errno));
		goto fail;
	}
	/* the same manager: one epoll fd, one consume, records and events on one thread */
	err = ring_buffer__add(src->rb, bpf_map__fd(src->skel->maps.h2_records), handle_h2_record,
			       src);
	if (err) {
		log__error("cannot map the HTTP/2 ring buffer: %s", strerror(-err));
		goto fail;
	}
	return 0;
fail:
	http_source__stop(src);
	return err;
}

void http_source__measure(struct http_source *src, bool on)
{
	/* one store: every program of the source starts, or stops, at once */
	__atomic_store_n(&src->skel->bss->measuring, on, __ATOMIC_SEQ_CST);
}

void http_source__stop(struct http_source *src)
{
	http_source__measure(src, false);
	bpf_link__destroy(src->timeouts);
	src->timeouts = NULL;
	detach_tls(src);
	slotap_bpf__detach(src->skel);
}

void http_source__destroy(struct http_source *src)
{
	if (!src)
		return;
	ring_buffer__free(src->rb);
	bpf_link__destroy(src->timeouts);
	detach_tls(src);
	free(src->tls_links);
	slotap_bpf__destroy(src->skel);	/* detaches every link */
	free(src->drops_seen);
	free(src->rtx_seen);
	free(src->batches);
	netns_set__free(src->netns);
	free(src);
}

int http_source__epoll_fd(const struct http_source *src)
{
	return ring_buffer__epoll_fd(src->rb);
}

/*
 * A CPU's batch staged less than this long ago is left alone: a busy CPU
 * fills and sends its batches itself (sixteen events take well under a
 * millisecond at load), and a flush is an interrupt of that CPU. The next
 * drain takes what is still there.
 */
#define STAGED_MAX_AGE_NS	20000000ULL

/*
 * Staged events into the ring buffer, running the flush only on the CPUs
 * that have some, and, unless all, only where they have waited for
 * STAGED_MAX_AGE_NS (the first staged event's time says how long): an
 * idle CPU is not interrupted, nor one busy enough to flush itself. A CPU
 * that stages its first event right after the read is flushed at the next
 * drain; one that is offline keeps its own until it is back; one that
 * cannot be reached otherwise keeps them until its batch fills.
 */
static void flush_staged(struct http_source *src, bool all)
{
	int fd = bpf_program__fd(src->skel->progs.slotap_flush_events);
	__u32 zero = 0;
	__u64 args[1] = {}, now;

	if (bpf_map_lookup_elem(bpf_map__fd(src->skel->maps.event_batches), &zero, src->batches))
		all = true;	/* cannot tell which: all of them */
	now = monotonic_ns();
	for (int cpu = 0; cpu < src->ncpus; cpu++) {
		LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args, .ctx_size_in = sizeof(args),
			    .cpu = cpu, .flags = BPF_F_TEST_RUN_ON_CPU);
		const struct event_batch *b = &src->batches[cpu];

		/* a torn read of a batch being written only moves its flush */
		if (!all && (!b->n || now - b->ev[0].resp_start_ns < STAGED_MAX_AGE_NS))
			continue;
		if (!bpf_prog_test_run_opts(fd, &run) || errno == ENXIO || src->flush_warned)
			continue;
		src->flush_warned = true;
		log__warn("cannot flush the events staged on CPU %d (%s): they wait for "
			  "their batch to fill", cpu, strerror(errno));
	}
}

int http_source__consume(struct http_source *src)
{
	flush_staged(src, false);
	return ring_buffer__consume(src->rb);
}

int http_source__consume_all(struct http_source *src)
{
	flush_staged(src, true);
	return ring_buffer__consume(src->rb);
}

/* Run an iterator once, in the calling thread's network namespace. */
static int iter_read(void *link)
{
	char buf[64];
	ssize_t n;
	int fd, err = 0;

	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return -errno;
	/*
	 * The programs print nothing: reading runs them. EAGAIN is a program
	 * ending the walk early (the listen drop sweep, past the listeners).
	 */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0 && errno != EAGAIN)
		err = -errno;
	close(fd);
	return err;
}

/* Once a sweep round: both sweeps of a second share one refresh. */
#define NETNS_REFRESH_NS	(900 * 1000000ULL)

/*
 * The namespaces of the serving processes (serving_tgids), at most once a
 * round: a few processes on most nodes, a map key and an open(2) each.
 */
static int netns_refresh(struct http_source *src)
{
	__u32 tgids[SERVING_TGIDS_MAX];
	__u64 now = monotonic_ns();
	size_t n;
	int err;

	if (src->netns_refreshed_ns && now - src->netns_refreshed_ns < NETNS_REFRESH_NS)
		return 0;
	n = http_source__serving_tgids(src, tgids, SERVING_TGIDS_MAX);
	err = netns_set__refresh(src->netns, tgids, n);
	if (!err)
		src->netns_refreshed_ns = now;
	return err;
}

/*
 * An iter/tcp program over the TCP sockets of our network namespace and
 * of each one a serving process is in: iter/tcp walks only its creator's.
 */
static int iter_read_tcp(struct http_source *src, struct bpf_link *link)
{
	int err, ret;

	if (!src->netns)
		return iter_read(link);
	/* the namespaces already held are swept even when /proc cannot say more */
	err = netns_refresh(src);
	ret = netns_set__for_each(src->netns, iter_read, link);
	return err ? err : ret;
}

int http_source__sweep_timeouts(struct http_source *src)
{
	if (!src->timeouts)
		return 0;	/* stopped, or no iterator to sweep with */
	if (bpf_program__autoload(src->skel->progs.slotap_request_timeouts))
		return iter_read(src->timeouts);	/* over the conns map: every namespace */
	return iter_read_tcp(src, src->timeouts);
}

int http_source__sweep_listen_drops(struct http_source *src, http_count_fn fn, void *ctx)
{
	struct bpf_link *link = src->skel->links.slotap_listen_drops;
	int map_fd = bpf_map__fd(src->skel->maps.listen_drops);
	int err;

	if (!link)
		return 0;	/* no iter/tcp: said at start */
	/* a namespace that failed still leaves the others' drops to report */
	err = iter_read_tcp(src, link);
	for (__u32 id = 0; id < src->n_services; id++) {
		__u64 v;

		if (bpf_map_lookup_elem(map_fd, &id, &v))
			return -errno;
		if (v > src->drops_seen[id])
			fn(ctx, id, "", v - src->drops_seen[id]);
		src->drops_seen[id] = v;
	}
	return err;
}

static struct retransmit_seen *retransmit_seen(struct http_source *src,
					       const struct service_key *key)
{
	struct retransmit_seen *r;

	/* linear: one entry per service, and at most a few hundred services */
	for (size_t i = 0; i < src->n_rtx_seen; i++)
		if (!memcmp(&src->rtx_seen[i].key, key, sizeof(*key)))
			return &src->rtx_seen[i];
	if (src->n_rtx_seen == src->cap_rtx_seen) {
		size_t cap = src->cap_rtx_seen ? 2 * src->cap_rtx_seen : 16;

		r = realloc(src->rtx_seen, cap * sizeof(*r));
		if (!r)
			return NULL;
		src->rtx_seen = r;
		src->cap_rtx_seen = cap;
	}
	r = &src->rtx_seen[src->n_rtx_seen++];
	r->key = *key;
	r->count = 0;
	return r;
}

int http_source__sweep_retransmits(struct http_source *src, http_count_fn fn, void *ctx)
{
	int fd = bpf_map__fd(src->skel->maps.retransmits);
	struct service_key key, next;
	__u64 values[src->ncpus];
	void *prev = NULL;

	if (!bpf_program__autoload(src->skel->progs.slotap_tcp_retransmit))
		return 0;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct retransmit_seen *seen;
		char exe_name[EXE_NAME_LEN + 1] = "";
		__u64 sum = 0;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, values))
			continue;	/* entries are never deleted: cannot happen */
		for (int cpu = 0; cpu < src->ncpus; cpu++)
			sum += values[cpu];
		seen = retransmit_seen(src, &key);
		if (!seen)
			return -ENOMEM;
		if (sum > seen->count) {
			memcpy(exe_name, key.exe_name, EXE_NAME_LEN);
			fn(ctx, key.service_id, exe_name, sum - seen->count);
		}
		seen->count = sum;
	}
	return errno == ENOENT ? 0 : -errno;
}

bool http_source__counts_retransmits(const struct http_source *src)
{
	return bpf_program__autoload(src->skel->progs.slotap_tcp_retransmit);
}

void http_source__set_request_timeout(struct http_source *src, __u64 ns)
{
	src->skel->data->request_timeout_ns = ns;
}

int http_source__exe_inode(struct http_source *src, int fd, __u64 *inode)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);
	__u64 args[1] = {};

	/* no CPU given: it runs right here, in this task, whose descriptor fd is */
	run.ctx_in = args;
	run.ctx_size_in = sizeof(args);
	src->skel->bss->exe_probe_fd = fd;
	if (bpf_prog_test_run_opts(bpf_program__fd(src->skel->progs.slotap_exe_inode), &run))
		return -errno;
	if (run.retval)
		return -EBADF;
	*inode = src->skel->bss->exe_probe_inode;
	return 0;
}

static int match_map_fd(struct http_source *src, enum http_match kind)
{
	return bpf_map__fd(kind == HTTP_MATCH_EXE ? src->skel->maps.service_by_exe :
			   src->skel->maps.service_by_cgroup);
}

int http_source__match(struct http_source *src, enum http_match kind, __u64 key,
		       __u16 service_id)
{
	if (bpf_map_update_elem(match_map_fd(src, kind), &key, &service_id, BPF_ANY))
		return -errno;
	return 0;
}

int http_source__unmatch(struct http_source *src, enum http_match kind, __u64 key)
{
	if (bpf_map_delete_elem(match_map_fd(src, kind), &key) && errno != ENOENT)
		return -errno;
	return 0;
}

static int sum_percpu(struct http_source *src, int map_fd, __u32 n, __u64 *out)
{
	__u64 values[src->ncpus];

	for (__u32 key = 0; key < n; key++) {
		if (bpf_map_lookup_elem(map_fd, &key, values))
			return -errno;
		out[key] = 0;
		for (int cpu = 0; cpu < src->ncpus; cpu++)
			out[key] += values[cpu];
	}
	return 0;
}

const struct bpf_object *http_source__object(const struct http_source *src)
{
	return src->skel->obj;
}

int http_source__read_counters(struct http_source *src, struct http_source_counters *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);
	__u64 args[1] = {};
	int err;

	err = sum_percpu(src, bpf_map__fd(src->skel->maps.loss_counters), LOSS_REASON_MAX,
			 out->loss);
	if (!err)
		err = sum_percpu(src, bpf_map__fd(src->skel->maps.stat_counters), STAT_MAX,
				 out->stat);
	if (err)
		return err;

	memcpy(out->h2_received, src->h2_received, sizeof(out->h2_received));
	out->ringbuf_size_bytes = bpf_map__max_entries(src->skel->maps.events);
	run.ctx_in = args;
	run.ctx_size_in = sizeof(args);
	if (bpf_prog_test_run_opts(bpf_program__fd(src->skel->progs.slotap_ringbuf_backlog), &run))
		return -errno;
	out->ringbuf_backlog_bytes = run.retval;
	return 0;
}

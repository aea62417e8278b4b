/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layer 0, settings: constants of the kernel's ABI that vmlinux.h does not
 * carry (#defines), and the agent's settings: fixed at load time (const
 * volatile) or changed while running. Uses nothing.
 */
#ifndef SLOTAP_SETTINGS_BPF_H
#define SLOTAP_SETTINGS_BPF_H

#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6
#define MSG_PEEK	2
#define TCP_FIN_WAIT1	4
#define TCP_CLOSE	7
#define TCP_LAST_ACK	9
#define TCP_LISTEN	10

/* From include/uapi/asm-generic/errno.h: sk_err of a failed connect. */
#define ENETUNREACH	101
#define ETIMEDOUT	110
#define ECONNREFUSED	111
#define EHOSTUNREACH	113

/* Set by the loader before load. */
const volatile bool track_all_listeners = true;	/* no services configured */
const volatile __u32 self_tgid = 0;		/* never track the agent itself */
const volatile __u64 wakeup_bytes = 256 * 1024;	/* wake the consumer past this backlog */
/*
 * Services are matched by cgroup (service_by_cgroup has entries), and the
 * kernel has bpf_get_current_ancestor_cgroup_id() (Linux 5.6) to match a
 * configured cgroup's descendants too. On unless the loader turns them
 * off, so that a load with the defaults (the verifier budget) verifies
 * the longest path.
 */
const volatile bool match_cgroups = true;
const volatile bool match_cgroup_ancestors = true;
/*
 * TLS plaintext from uprobes on the TLS library (docs/tls.md). The loader
 * turns it off without --tls-library, and the verifier then removes the
 * socket path's TLS code as dead; on by default, like the cgroup matches,
 * so that the verifier budget verifies the longest path.
 */
const volatile bool tls_enabled = true;
/* Set at any time by the agent: requests unanswered for longer have failed. */
__u64 request_timeout_ns = 30000000000ULL;
/*
 * Set by the agent once every program is attached: until then they only
 * keep the listener counts. A reload's new programs so take over from the
 * old ones at one instant, not program by program.
 */
bool measuring = false;

#endif /* SLOTAP_SETTINGS_BPF_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Syscall numbers and the syscall-number register, per architecture. */
#ifndef SLOTAP_SYSCALLS_BPF_H
#define SLOTAP_SYSCALLS_BPF_H

#if defined(__TARGET_ARCH_x86)
#define NR_read		0
#define NR_write	1
#define NR_close	3
#define NR_readv	19
#define NR_writev	20
#define NR_sendfile	40
#define NR_accept	43
#define NR_sendto	44
#define NR_recvfrom	45
#define NR_sendmsg	46
#define NR_recvmsg	47
#define NR_accept4	288
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define NR_close	57
#define NR_read		63
#define NR_write	64
#define NR_readv	65
#define NR_writev	66
#define NR_sendfile	71
#define NR_accept	202
#define NR_sendto	206
#define NR_recvfrom	207
#define NR_sendmsg	211
#define NR_recvmsg	212
#define NR_accept4	242
#define SYSCALL_NR(regs) ((regs)->syscallno)
#else
#error "slotap: syscall numbers for this architecture are missing"
#endif

#endif /* SLOTAP_SYSCALLS_BPF_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The files whose OpenSSL functions the TLS uprobes are on (docs/tls.md):
 * --tls-library paths, the usual libssl.so.3 and libssl.so.1.1, the libssl
 * every tracked process maps (a container's own copy is another file), and
 * the executables of tracked processes that export SSL_read and SSL_write
 * themselves (static OpenSSL or BoringSSL). A uprobe is on a file's inode,
 * so each file is attached once, by inode, and covers every process that
 * maps it, now or later. Each file is held open (O_PATH): a reload's new
 * programs attach to the same inodes, whatever became of the paths.
 */
#ifndef SLOTAP_TLS_LIBS_H
#define SLOTAP_TLS_LIBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

/* Files probed at most; one more is counted in failures, not probed. */
#define TLS_LIBS_MAX		64
/* Executables found not to be OpenSSL remembered, so as not to read them again. */
#define TLS_LIBS_NOT_SSL_MAX	1024

struct tls_libs;

/*
 * Attaches the TLS uprobes to the file at path (a /proc/self/fd link):
 * the probes attached (> 0), or -errno (-ENOENT: no SSL_read, SSL_write).
 */
typedef int (*tls_attach_fn)(void *ctx, const char *path);

struct tls_libs *tls_libs__new(void);
void tls_libs__free(struct tls_libs *t);

/*
 * A file to probe, found as what (a label value: "flag", "default",
 * "process"). Returns 1 when it is now probed, 0 when it already was (or
 * is a file already found not to export OpenSSL's functions), -errno when
 * it cannot be (counted in failures, logged once per file).
 */
int tls_libs__add(struct tls_libs *t, const char *path, const char *what, tls_attach_fn fn,
		  void *ctx);
/* The usual places of libssl.so.3 and libssl.so.1.1 that exist. */
void tls_libs__add_defaults(struct tls_libs *t, tls_attach_fn fn, void *ctx);
/*
 * The processes tgids (tracked ones): each one not looked at before, its
 * mapped libssl files and its executable if it exports SSL_read and
 * SSL_write. 0, or the first -errno (a process gone meanwhile is none).
 */
int tls_libs__scan(struct tls_libs *t, const __u32 *tgids, size_t n, tls_attach_fn fn,
		   void *ctx);
/* Every file probed, to new programs (a reload): 0 or the first -errno. */
int tls_libs__attach_all(struct tls_libs *t, tls_attach_fn fn, void *ctx);
/* slotap_tls_probes{path, found, file} and slotap_tls_attach_failures_total. */
void tls_libs__write_prometheus(const struct tls_libs *t, FILE *out);

/*
 * The path of the file a /proc/PID/maps line maps, when it is a libssl
 * ("libssl.so" followed by nothing or a version): true, path in out.
 */
bool tls_libs__maps_line_libssl(const char *line, char *out, size_t size);
/* Whether the ELF file open at fd defines both SSL_read and SSL_write. */
bool tls_libs__elf_exports_ssl(int fd);

#endif

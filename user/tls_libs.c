// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Which files the TLS uprobes go on, found and kept by inode (tls_libs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <elf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include "log.h"
#include "prom.h"
#include "tls_libs.h"
#include "metric_names.h"

struct file_id {
	dev_t dev;
	ino_t ino;
};

struct tls_file {
	int fd;			/* O_PATH: the inode stays, whatever the path becomes */
	struct file_id id;
	char path[PATH_MAX];	/* as found (in its process's mount namespace) */
	const char *what;	/* "flag", "default", "process" */
	int probes;
};

struct tls_libs {
	struct tls_file files[TLS_LIBS_MAX];
	size_t n;
	/* files that are not OpenSSL or could not be probed: not looked at again */
	struct file_id skip[TLS_LIBS_NOT_SSL_MAX];
	size_t n_skip, next_skip;
	__u64 failures;
	bool full_said;
	/* the processes looked at (the last round's tgids), sorted */
	__u32 *seen;
	size_t n_seen;
};

struct tls_libs *tls_libs__new(void)
{
	return calloc(1, sizeof(struct tls_libs));
}

void tls_libs__free(struct tls_libs *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		close(t->files[i].fd);
	free(t->seen);
	free(t);
}

static bool id_eq(struct file_id a, struct file_id b)
{
	return a.dev == b.dev && a.ino == b.ino;
}

static bool known(const struct tls_libs *t, struct file_id id)
{
	for (size_t i = 0; i < t->n; i++)
		if (id_eq(t->files[i].id, id))
			return true;
	for (size_t i = 0; i < t->n_skip; i++)
		if (id_eq(t->skip[i], id))
			return true;
	return false;
}

/* Remembered so as not to be read again; the oldest goes first when full. */
static void remember_skip(struct tls_libs *t, struct file_id id)
{
	t->skip[t->next_skip] = id;
	t->next_skip = (t->next_skip + 1) % TLS_LIBS_NOT_SSL_MAX;
	if (t->n_skip < TLS_LIBS_NOT_SSL_MAX)
		t->n_skip++;
}

static int attach_fd(int fd, tls_attach_fn fn, void *ctx)
{
	char link[64];

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	return fn(ctx, link);
}

int tls_libs__add(struct tls_libs *t, const char *path, const char *what, tls_attach_fn fn,
		  void *ctx)
{
	struct tls_file *f;
	struct file_id id;
	struct stat st;
	int fd, n;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		n = -errno;
		close(fd);
		return n;
	}
	id = (struct file_id){ .dev = st.st_dev, .ino = st.st_ino };
	if (known(t, id)) {
		close(fd);
		return 0;
	}
	if (t->n == TLS_LIBS_MAX) {
		t->failures++;
		remember_skip(t, id);
		if (!t->full_said)
			log__warn("TLS: %s not probed: %d files are already (the most probed)", path,
				  TLS_LIBS_MAX);
		t->full_said = true;
		close(fd);
		return -E2BIG;
	}
	n = attach_fd(fd, fn, ctx);
	if (n <= 0) {
		n = n ? n : -ENOENT;
		t->failures++;
		remember_skip(t, id);
		log__warn("TLS: cannot probe %s: %s", path,
			  n == -ENOENT ? "no SSL_read or SSL_write in it" : strerror(-n));
		close(fd);
		return n;
	}
	f = &t->files[t->n++];
	f->fd = fd;
	f->id = id;
	f->what = what;
	f->probes = n;
	snprintf(f->path, sizeof(f->path), "%s", path);
	log__info("TLS: %d probes on %s (%s)", n, path, what);
	return 1;
}

void tls_libs__add_defaults(struct tls_libs *t, tls_attach_fn fn, void *ctx)
{
	static const char *const libs[] = { "libssl.so.3", "libssl.so.1.1" };
	/* %s: Debian's multiarch triplet's machine (x86_64-linux-gnu, aarch64-linux-gnu) */
	static const char *const dirs[] = { "/usr/lib/%s-linux-gnu", "/lib/%s-linux-gnu",
					    "/usr/lib64", "/usr/lib", "/lib64" };
	char dir[256], path[PATH_MAX];
	struct utsname u;

	if (uname(&u))
		snprintf(u.machine, sizeof(u.machine), "x86_64");
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		snprintf(dir, sizeof(dir), dirs[d], u.machine);
		for (size_t l = 0; l < sizeof(libs) / sizeof(libs[0]); l++) {
			snprintf(path, sizeof(path), "%s/%s", dir, libs[l]);
			if (!access(path, F_OK))
				tls_libs__add(t, path, "default", fn, ctx);
		}
	}
}

bool tls_libs__maps_line_libssl(const char *line, char *out, size_t size)
{
	const char *path, *base;
	size_t len;

	/* address perms offset dev inode, then the path (which may hold spaces) */
	path = line;
	for (int field = 0; field < 5; field++) {
		path = strchr(path, ' ');
		if (!path)
			return false;
		while (*path == ' ')
			path++;
	}
	if (*path != '/')
		return false;	/* anonymous, [heap], [vdso], ... */
	len = strcspn(path, "\n");
	if (len > 10 && !strncmp(path + len - 10, " (deleted)", 10))
		return false;	/* replaced since: its new file is found by its next user */
	base = memrchr(path, '/', len) + 1;
	if ((size_t)(path + len - base) < 9 || strncmp(base, "libssl.so", 9) ||
	    (base + 9 < path + len && base[9] != '.'))
		return false;
	if (len >= size)
		return false;
	memcpy(out, path, len);
	out[len] = '\0';
	return true;
}

/* Symbols read at a time: the memory an executable's check takes, whatever its size. */
#define SYMS_CHUNK	256

static bool pread_all(int fd, void *buf, size_t n, __u64 off)
{
	return pread(fd, buf, n, off) == (ssize_t)n;
}

/* A defined function named SSL_read or SSL_write in the symbol table sh: 1, 2, or 0. */
static int ssl_symbols(int fd, const Elf64_Shdr *sh, const Elf64_Shdr *str)
{
	static Elf64_Sym syms[SYMS_CHUNK];
	__u64 n = sh->sh_size / sizeof(Elf64_Sym);
	int found = 0;

	for (__u64 i = 0; i < n; i += SYMS_CHUNK) {
		size_t k = n - i < SYMS_CHUNK ? n - i : SYMS_CHUNK;

		if (!pread_all(fd, syms, k * sizeof(syms[0]), sh->sh_offset + i * sizeof(syms[0])))
			return found;
		for (size_t j = 0; j < k; j++) {
			char name[10];

			if (ELF64_ST_TYPE(syms[j].st_info) != STT_FUNC ||
			    syms[j].st_shndx == SHN_UNDEF || syms[j].st_name >= str->sh_size ||
			    !pread_all(fd, name, sizeof(name), str->sh_offset + syms[j].st_name))
				continue;
			if (!memcmp(name, "SSL_read", 9))
				found |= 1;
			else if (!memcmp(name, "SSL_write", 10))
				found |= 2;
		}
		if (found == 3)
			break;
	}
	return found;
}

/*
 * By hand rather than with libelf, which would hold a symbol table and its
 * strings whole (megabytes for a large executable, on the agent's peak
 * memory): a chunk of symbols and a name at a time. 64-bit ELF of the
 * agent's own byte order only, as the agent itself is.
 */
bool tls_libs__elf_exports_ssl(int fd)
{
	Elf64_Ehdr eh;
	int found = 0;

	if (!pread_all(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB :
									  ELFDATA2MSB) ||
	    eh.e_shentsize != sizeof(Elf64_Shdr))
		return false;
	for (unsigned int i = 0; i < eh.e_shnum && found != 3; i++) {
		Elf64_Shdr sh, str;

		if (!pread_all(fd, &sh, sizeof(sh), eh.e_shoff + (__u64)i * sizeof(sh)) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    sh.sh_link >= eh.e_shnum ||
		    !pread_all(fd, &str, sizeof(str), eh.e_shoff + (__u64)sh.sh_link * sizeof(str)))
			continue;
		found |= ssl_symbols(fd, &sh, &str);
	}
	return found == 3;
}

/* A process's executable, when it has OpenSSL in it (statically linked, symbols kept). */
static void scan_exe(struct tls_libs *t, __u32 tgid, tls_attach_fn fn, void *ctx)
{
	char link[64], path[PATH_MAX];
	struct file_id id;
	struct stat st;
	ssize_t len;
	int fd;

	snprintf(link, sizeof(link), "/proc/%u/exe", tgid);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;		/* gone, or a kernel thread */
	if (fstat(fd, &st) || known(t, (id = (struct file_id){ st.st_dev, st.st_ino }))) {
		close(fd);
		return;
	}
	if (!tls_libs__elf_exports_ssl(fd)) {
		remember_skip(t, id);
		close(fd);
		return;
	}
	close(fd);
	len = readlink(link, path, sizeof(path) - 1);
	path[len > 0 ? len : 0] = '\0';
	/* by the link: the path may be another mount namespace's */
	if (tls_libs__add(t, link, "process", fn, ctx) > 0 && len > 0)
		snprintf(t->files[t->n - 1].path, sizeof(t->files[0].path), "%s", path);
}

static void scan_process(struct tls_libs *t, __u32 tgid, tls_attach_fn fn, void *ctx)
{
	char name[64], line[PATH_MAX + 128], path[PATH_MAX], root_path[PATH_MAX + 32];
	FILE *maps;

	if ((pid_t)tgid == getpid())
		return;
	snprintf(name, sizeof(name), "/proc/%u/maps", tgid);
	maps = fopen(name, "re");
	if (!maps)
		return;		/* gone meanwhile */
	while (fgets(line, sizeof(line), maps)) {
		if (!tls_libs__maps_line_libssl(line, path, sizeof(path)))
			continue;
		/* through the process's root: a container's own copy */
		snprintf(root_path, sizeof(root_path), "/proc/%u/root%s", tgid, path);
		if (tls_libs__add(t, root_path, "process", fn, ctx) > 0)
			snprintf(t->files[t->n - 1].path, sizeof(t->files[0].path), "%s", path);
	}
	fclose(maps);
	scan_exe(t, tgid, fn, ctx);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

int tls_libs__scan(struct tls_libs *t, const __u32 *tgids, size_t n, tls_attach_fn fn,
		   void *ctx)
{
	__u32 *now = malloc((n ? n : 1) * sizeof(*now));

	if (!now)
		return -ENOMEM;
	memcpy(now, tgids, n * sizeof(*now));
	qsort(now, n, sizeof(*now), cmp_u32);
	for (size_t i = 0; i < n; i++) {
		if (t->seen && bsearch(&now[i], t->seen, t->n_seen, sizeof(*now), cmp_u32))
			continue;
		scan_process(t, now[i], fn, ctx);
	}
	free(t->seen);
	t->seen = now;
	t->n_seen = n;
	return 0;
}

int tls_libs__attach_all(struct tls_libs *t, tls_attach_fn fn, void *ctx)
{
	int err = 0;

	for (size_t i = 0; i < t->n; i++) {
		int n = attach_fd(t->files[i].fd, fn, ctx);

		if (n <= 0) {
			log__warn("TLS: cannot probe %s again: %s", t->files[i].path,
				  strerror(n ? -n : ENOENT));
			t->failures++;
			if (!err)
				err = n ? n : -ENOENT;
		}
		t->files[i].probes = n > 0 ? n : 0;
	}
	return err;
}

void tls_libs__write_prometheus(const struct tls_libs *t, FILE *out)
{
	prom__header(out, METRIC_TLS_PROBES, "gauge",
		     "TLS uprobes on each file probed (path as found: flag, default, or in a "
		     "tracked process's mount namespace; file: device and inode).");
	for (size_t i = 0; i < t->n; i++) {
		const struct tls_file *f = &t->files[i];

		fprintf(out, "%s{path=", METRIC_TLS_PROBES);
		prom__label_value(out, f->path);
		fprintf(out, ",found=\"%s\",file=\"%u:%u:%llu\"} %d\n", f->what,
			major(f->id.dev), minor(f->id.dev), (unsigned long long)f->id.ino,
			f->probes);
	}
	prom__header(out, METRIC_TLS_ATTACH_FAILURES, "counter",
		     "Files whose TLS functions could not be probed (not OpenSSL, an attach "
		     "refused, more than the files probed at most).");
	fprintf(out, "%s %llu\n", METRIC_TLS_ATTACH_FAILURES, (unsigned long long)t->failures);
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "config.h"
#include "http_server.h"
#include "http_source.h"
#include "log.h"
#include "prom.h"
#include "route.h"
#include "services.h"
#include "metric_names.h"

/*
 * A configured executable path and the files it had, the current one
 * first: each held open (O_PATH), so that its inode, whose address is the
 * kernel's key, is neither freed nor its address reused while the key is
 * in service_by_exe. A replaced file stays matched, for the processes
 * still running it, until SERVICES_EXE_FILES newer ones pushed it out.
 */
struct exe_watch {
	char *path;
	__u16 service_id;
	unsigned n;
	struct {
		int fd;
		__u64 inode;
	} files[SERVICES_EXE_FILES];
	bool missing;		/* said so; not again until it is back */
};

/* A configured cgroup and its id now (the directory's inode number), 0 if none. */
struct cgroup_watch {
	char *path;
	__u16 service_id;
	__u64 id;
	bool missing;
};

struct service_registry {
	const struct slotap_config *cfg;
	struct service *configured;	/* index = service_id */
	size_t n_configured;
	struct service *autos;		/* discovered, by executable name */
	size_t n_autos;
	struct service auto_overflow;
	struct exe_watch *exes;
	size_t n_exes;
	struct cgroup_watch *cgroups;
	size_t n_cgroups;
	/* where the cgroup v2 hierarchy is mounted, and which of its cgroups is there */
	char cgroup_mount[PATH_MAX];
	char cgroup_mount_root[PATH_MAX];
	bool cgroup_mount_warned;
};

static int service__init(struct service *svc, const char *name, const char *const *templates,
			 size_t n_templates, unsigned max_routes, enum route_mode mode)
{
	svc->name = strdup(name);
	svc->routes = route_table__new(templates, n_templates, max_routes, mode);
	return svc->name && svc->routes ? 0 : -ENOMEM;
}

static void service__free(struct service *svc)
{
	free(svc->name);
	route_table__free(svc->routes);
}

static unsigned max_routes(const struct slotap_config *cfg, const struct service_config *sc)
{
	return sc->max_routes ? sc->max_routes : cfg->max_routes_per_service;
}

/* The watches of reg->n_exes paths and reg->n_cgroups cgroups of reg->cfg, not looked at yet. */
static int watches_new(struct service_registry *reg)
{
	const struct slotap_config *cfg = reg->cfg;
	size_t e = 0, g = 0;

	reg->exes = calloc(reg->n_exes ? reg->n_exes : 1, sizeof(*reg->exes));
	reg->cgroups = calloc(reg->n_cgroups ? reg->n_cgroups : 1, sizeof(*reg->cgroups));
	if (!reg->exes || !reg->cgroups)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct service_config *sc = &cfg->services[i];

		for (size_t j = 0; j < sc->n_processes; j++) {
			if (sc->processes[j][0] != '/')
				continue;
			reg->exes[e].service_id = i;
			reg->exes[e].path = strdup(sc->processes[j]);
			if (!reg->exes[e++].path)
				return -ENOMEM;
		}
		for (size_t j = 0; j < sc->n_cgroups; j++) {
			reg->cgroups[g].service_id = i;
			reg->cgroups[g].path = strdup(sc->cgroups[j]);
			if (!reg->cgroups[g++].path)
				return -ENOMEM;
		}
	}
	return 0;
}

static void watches_free(struct service_registry *reg)
{
	for (size_t i = 0; reg->exes && i < reg->n_exes; i++) {
		for (unsigned k = 0; k < reg->exes[i].n; k++)
			close(reg->exes[i].files[k].fd);
		free(reg->exes[i].path);
	}
	for (size_t i = 0; reg->cgroups && i < reg->n_cgroups; i++)
		free(reg->cgroups[i].path);
	free(reg->exes);
	free(reg->cgroups);
	reg->exes = NULL;
	reg->cgroups = NULL;
	reg->n_exes = reg->n_cgroups = 0;
}

struct service_registry *service_registry__new(const struct slotap_config *cfg)
{
	struct service_registry *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	reg->cfg = cfg;
	reg->configured = calloc(cfg->n_services ? cfg->n_services : 1, sizeof(*reg->configured));
	reg->autos = calloc(SERVICES_AUTO_MAX, sizeof(*reg->autos));
	if (!reg->configured || !reg->autos)
		goto fail;
	for (size_t i = 0; i < cfg->n_services; i++) {
		const struct service_config *sc = &cfg->services[i];
		unsigned max = max_routes(cfg, sc);

		reg->n_configured++;
		if (service__init(&reg->configured[i], sc->name, (const char *const *)sc->routes,
				  sc->n_routes, max, sc->route_mode))
			goto fail;
		for (size_t j = 0; j < sc->n_processes; j++)
			if (sc->processes[j][0] == '/')
				reg->n_exes++;
		reg->n_cgroups += sc->n_cgroups;
	}
	if (watches_new(reg))
		goto fail;
	if (service__init(&reg->auto_overflow, "__overflow__", NULL, 0,
			  cfg->max_routes_per_service, cfg->route_mode))
		goto fail;
	return reg;
fail:
	service_registry__free(reg);
	return NULL;
}

void service_registry__free(struct service_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n_configured; i++)
		service__free(&reg->configured[i]);
	for (size_t i = 0; i < reg->n_autos; i++)
		service__free(&reg->autos[i]);
	service__free(&reg->auto_overflow);
	free(reg->configured);
	free(reg->autos);
	watches_free(reg);
	free(reg);
}

/* A file name is whatever its creator chose: make it a sane label. */
static void exe_name_to_label(const char *exe_name, char *name, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size && i < EXE_NAME_LEN && exe_name[i]; i++)
		name[i] = isalnum((unsigned char)exe_name[i]) || strchr("_.-", exe_name[i]) ?
			  exe_name[i] : '_';
	if (i == 0)
		name[i++] = '_';
	name[i] = '\0';
}

struct service *service_registry__lookup(struct service_registry *reg, __u16 service_id,
					 const char *exe_name)
{
	char name[EXE_NAME_LEN + 1];

	if (service_id != SERVICE_ID_AUTO)
		return service_id < reg->n_configured ? &reg->configured[service_id] : NULL;

	exe_name_to_label(exe_name, name, sizeof(name));
	for (size_t i = 0; i < reg->n_autos; i++)
		if (!strcmp(reg->autos[i].name, name))
			return &reg->autos[i];
	if (reg->n_autos == SERVICES_AUTO_MAX)
		return &reg->auto_overflow;
	if (service__init(&reg->autos[reg->n_autos], name, NULL, 0,
			  reg->cfg->max_routes_per_service, reg->cfg->route_mode)) {
		service__free(&reg->autos[reg->n_autos]);
		memset(&reg->autos[reg->n_autos], 0, sizeof(struct service));
		return NULL;
	}
	log__debug("discovered service %s", name);
	return &reg->autos[reg->n_autos++];
}

/* The file now at an executable path: matched, kept open, the newest first. */
static void exe_refresh(struct exe_watch *w, struct http_source *src)
{
	int fd = open(w->path, O_PATH | O_CLOEXEC);
	unsigned k;
	__u64 inode;
	int err;

	if (fd < 0) {
		if (!w->missing)
			log__warn("executable %s: %s: processes started from it are "
				  "matched once it is there", w->path, strerror(errno));
		w->missing = true;
		return;
	}
	err = http_source__exe_inode(src, fd, &inode);
	if (err) {
		close(fd);
		if (!w->missing)
			log__warn("executable %s: cannot read its inode: %s", w->path,
				  strerror(-err));
		w->missing = true;
		return;
	}
	if (w->missing)
		log__info("executable %s is there: its processes are matched", w->path);
	w->missing = false;
	for (k = 0; k < w->n && w->files[k].inode != inode; k++)
		;
	if (k < w->n) {
		close(fd);	/* the same file: held already */
		if (k == 0)
			return;
		fd = w->files[k].fd;	/* an older one back at the path: the newest again */
	} else {
		err = http_source__match(src, HTTP_MATCH_EXE, inode, w->service_id);
		if (err) {
			close(fd);
			log__warn("executable %s: cannot match its new file: %s", w->path,
				  strerror(-err));
			return;
		}
		if (w->n)
			log__info("executable %s replaced: its new file is matched, and the "
				  "processes still running the old one stay matched", w->path);
		if (w->n == SERVICES_EXE_FILES) {
			k = --w->n;
			http_source__unmatch(src, HTTP_MATCH_EXE, w->files[k].inode);
			close(w->files[k].fd);
			log__warn("executable %s: replaced %d times: processes still running "
				  "its oldest file are no longer matched", w->path,
				  SERVICES_EXE_FILES);
		}
		k = w->n++;
	}
	memmove(&w->files[1], &w->files[0], k * sizeof(w->files[0]));
	w->files[0].fd = fd;
	w->files[0].inode = inode;
}

/* "\040" and the like, as mountinfo escapes a path, back to bytes, in place. */
static void mountinfo_unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/*
 * Where the agent sees the cgroup v2 hierarchy: its first cgroup2 mount
 * in /proc/self/mountinfo (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a
 * hybrid layout), and the cgroup mounted there ("/" but in a cgroup
 * namespace or a bind mount of a subtree). 0, or -ENOENT.
 */
static int cgroup2_find(struct service_registry *reg)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char root[PATH_MAX], mount[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");

		/* ID PARENT MAJ:MIN ROOT MOUNT OPTIONS [OPTIONAL...] - FSTYPE SOURCE ... */
		if (!sep || sscanf(sep, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2") ||
		    sscanf(line, "%*d %*d %*s %4095s %4095s", root, mount) != 2)
			continue;
		mountinfo_unescape(root);
		mountinfo_unescape(mount);
		snprintf(reg->cgroup_mount, sizeof(reg->cgroup_mount), "%s", mount);
		snprintf(reg->cgroup_mount_root, sizeof(reg->cgroup_mount_root), "%s",
			 strcmp(root, "/") ? root : "");
		err = 0;
		break;
	}
	free(line);
	fclose(f);
	return err;
}

/* The directory of cgroup path under the mount; false if it is not under it. */
static bool cgroup_dir(const struct service_registry *reg, const char *path, char *dir,
		       size_t size)
{
	size_t n = strlen(reg->cgroup_mount_root);

	if (strncmp(path, reg->cgroup_mount_root, n) || (path[n] != '/' && path[n]))
		return false;
	return (size_t)snprintf(dir, size, "%s%s", reg->cgroup_mount, path + n) < size;
}

/* A configured cgroup's id now: matched, and the one it replaced forgotten. */
static void cgroup_refresh(struct service_registry *reg, struct cgroup_watch *w,
			   struct http_source *src)
{
	char dir[2 * PATH_MAX];
	const char *why = NULL;
	struct stat st;
	__u64 id = 0;

	if (!reg->cgroup_mount[0])
		why = "no cgroup v2 hierarchy is mounted";
	else if (!cgroup_dir(reg, w->path, dir, sizeof(dir)))
		why = "not below the cgroup v2 mount the agent sees";
	else if (stat(dir, &st))
		why = strerror(errno);
	else
		id = st.st_ino;	/* a cgroup's id is its directory's inode number */
	if (id && id == w->id)
		return;
	if (w->id)
		http_source__unmatch(src, HTTP_MATCH_CGROUP, w->id);
	w->id = 0;
	if (id) {
		int err = http_source__match(src, HTTP_MATCH_CGROUP, id, w->service_id);

		if (err) {
			log__warn("cgroup %s: cannot match it: %s", w->path, strerror(-err));
			return;
		}
		w->id = id;
		if (w->missing)
			log__info("cgroup %s is there: its processes are matched", w->path);
		w->missing = false;
		return;
	}
	if (!w->missing)
		log__warn("cgroup %s: %s: its processes are matched once it exists", w->path,
			  why);
	w->missing = true;
}

int service_registry__refresh(struct service_registry *reg, struct http_source *src)
{
	for (size_t i = 0; i < reg->n_exes; i++)
		exe_refresh(&reg->exes[i], src);
	if (!reg->n_cgroups)
		return 0;
	if (!reg->cgroup_mount[0] && cgroup2_find(reg) && !reg->cgroup_mount_warned) {
		log__warn("no cgroup v2 hierarchy in /proc/self/mountinfo: services are not "
			  "matched by cgroup until one is mounted");
		reg->cgroup_mount_warned = true;
	}
	for (size_t i = 0; i < reg->n_cgroups; i++)
		cgroup_refresh(reg, &reg->cgroups[i], src);
	return 0;
}

static void write_route_metrics(const struct service *svc, FILE *out, bool overflow)
{
	if (overflow) {
		fputs(METRIC_HTTP_ROUTE_OVERFLOW "{service_name=", out);
		prom__label_value(out, svc->name);
		fprintf(out, "} %llu\n", (unsigned long long)route_table__overflowed(svc->routes));
	} else {
		fputs(METRIC_HTTP_ROUTES "{service_name=", out);
		prom__label_value(out, svc->name);
		fprintf(out, "} %zu\n", route_table__count(svc->routes));
	}
}

void service_registry__write_prometheus(const struct service_registry *reg, FILE *out)
{
	prom__header(out, METRIC_HTTP_ROUTES, "gauge",
		     "Distinct routes admitted per service (bounded by max_routes).");
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			prom__header(out, METRIC_HTTP_ROUTE_OVERFLOW, "counter",
				     "Requests whose new route exceeded the service's max_routes "
				     "and were reported under http_route=\"__overflow__\".");
		for (size_t i = 0; i < reg->n_configured; i++)
			write_route_metrics(&reg->configured[i], out, pass);
		for (size_t i = 0; i < reg->n_autos; i++)
			write_route_metrics(&reg->autos[i], out, pass);
	}
}

void service_registry__set_config(struct service_registry *reg, const struct slotap_config *cfg)
{
	reg->cfg = cfg;
}

static bool same_routes(const struct slotap_config *ca, const struct service_config *a,
			const struct slotap_config *cb, const struct service_config *b)
{
	if (a->n_routes != b->n_routes || max_routes(ca, a) != max_routes(cb, b) ||
	    a->route_mode != b->route_mode)
		return false;
	for (size_t i = 0; i < a->n_routes; i++)
		if (strcmp(a->routes[i], b->routes[i]))
			return false;
	return true;
}

static void swap_routes(struct service *a, struct service *b)
{
	struct route_table *t = a->routes;

	a->routes = b->routes;
	b->routes = t;
}

void service_registry__adopt(struct service_registry *reg, struct service_registry *old,
			     const struct slotap_config *old_cfg, bool same_source)
{
	if (same_source) {
		/* the files and cgroups it pointed the kernel at, alike in both configs */
		watches_free(reg);
		reg->exes = old->exes;
		reg->n_exes = old->n_exes;
		reg->cgroups = old->cgroups;
		reg->n_cgroups = old->n_cgroups;
		memcpy(reg->cgroup_mount, old->cgroup_mount, sizeof(reg->cgroup_mount));
		memcpy(reg->cgroup_mount_root, old->cgroup_mount_root,
		       sizeof(reg->cgroup_mount_root));
		old->exes = NULL;
		old->cgroups = NULL;
		old->n_exes = old->n_cgroups = 0;
	}
	for (size_t i = 0; i < reg->n_configured; i++) {
		for (size_t j = 0; j < old->n_configured; j++) {
			if (strcmp(reg->configured[i].name, old->configured[j].name))
				continue;
			if (same_routes(reg->cfg, &reg->cfg->services[i], old_cfg,
					&old_cfg->services[j]))
				swap_routes(&reg->configured[i], &old->configured[j]);
			break;
		}
	}
	/* discovered services: only while both track every listener, alike */
	if (reg->n_configured || old->n_configured ||
	    reg->cfg->max_routes_per_service != old_cfg->max_routes_per_service ||
	    reg->cfg->route_mode != old_cfg->route_mode)
		return;
	for (size_t j = 0; j < old->n_autos; j++) {
		reg->autos[j] = old->autos[j];
		old->autos[j] = (struct service){};
	}
	reg->n_autos = old->n_autos;
	old->n_autos = 0;
	swap_routes(&reg->auto_overflow, &old->auto_overflow);
}

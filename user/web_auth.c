// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <crypt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/crypto.h>
#include "web_auth.h"

#define DIGEST_LEN	32	/* SHA-256 */

struct web_auth {
	const struct web_user *users;
	size_t n_users;
	pthread_mutex_t lock;	/* the cache */
	unsigned char passed[WEB_AUTH_CACHE][DIGEST_LEN];
	unsigned n_passed, next;
};

/* Equal, in a time that depends on n only. */
static bool same_bytes(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return !d;
}

struct web_auth *web_auth__new(const struct web_user *users, size_t n_users)
{
	struct web_auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->users = users;
	a->n_users = n_users;
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

void web_auth__free(struct web_auth *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->lock);
	explicit_bzero(a->passed, sizeof(a->passed));
	free(a);
}

/* bcrypt of password with hash's salt and cost, compared with hash. */
static bool bcrypt_matches(const char *password, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));	/* 32 KiB: not on a thread's stack */
	const char *out;
	bool ok = false;

	if (!cd)
		return false;
	out = crypt_r(password, hash, cd);
	/* crypt_r fails with a string starting with '*', never equal to a hash */
	if (out && strlen(out) == strlen(hash))
		ok = same_bytes(out, hash, strlen(hash));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* SHA-256 of user, password and the hash they passed against. */
static bool digest(const char *user, const char *password, const char *hash,
		   unsigned char out[DIGEST_LEN])
{
	size_t nu = strlen(user) + 1, np = strlen(password) + 1, nh = strlen(hash);
	char *buf = malloc(nu + np + nh);
	int ret;

	if (!buf)
		return false;
	memcpy(buf, user, nu);
	memcpy(buf + nu, password, np);
	memcpy(buf + nu + np, hash, nh);
	ret = gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, nu + np + nh, out);
	explicit_bzero(buf, nu + np + nh);
	free(buf);
	return ret == 0;
}

bool web_auth__check(struct web_auth *a, const char *user, const char *password)
{
	const struct web_user *u = NULL;
	unsigned char d[DIGEST_LEN];
	bool hit = false, have_digest, ok;

	if (!a->n_users)
		return false;
	for (size_t i = 0; i < a->n_users; i++)
		if (!strcmp(a->users[i].name, user))
			u = &a->users[i];
	if (!u) {
		/* the time of a known user's check, so that it tells no names */
		bcrypt_matches(password, a->users[0].hash);
		return false;
	}
	have_digest = digest(user, password, u->hash, d);
	if (have_digest) {
		pthread_mutex_lock(&a->lock);
		for (unsigned i = 0; i < a->n_passed; i++)
			hit |= same_bytes(a->passed[i], d, DIGEST_LEN);
		pthread_mutex_unlock(&a->lock);
		if (hit) {
			explicit_bzero(d, sizeof(d));
			return true;
		}
	}
	ok = bcrypt_matches(password, u->hash);
	if (ok && have_digest) {
		pthread_mutex_lock(&a->lock);
		memcpy(a->passed[a->next], d, DIGEST_LEN);
		a->next = (a->next + 1) % WEB_AUTH_CACHE;
		if (a->n_passed < WEB_AUTH_CACHE)
			a->n_passed++;
		pthread_mutex_unlock(&a->lock);
	}
	explicit_bzero(d, sizeof(d));
	return ok;
}

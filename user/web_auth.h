/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Basic authentication of the metrics endpoint against a web config's
 * basic_auth_users: bcrypt (libxcrypt's crypt_r), outputs compared in
 * constant time, an unknown user costing a bcrypt like a known one. A
 * bcrypt costs tens of milliseconds by design, so credentials that passed
 * are remembered (a SHA-256 of user, password and hash; WEB_AUTH_CACHE of
 * them): a scraper pays it once, not every scrape. Thread-safe.
 */
#ifndef SLOTAP_WEB_AUTH_H
#define SLOTAP_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include "web_config.h"

#define WEB_AUTH_CACHE	16

struct web_auth;

/* users stay the caller's, and must outlive the result. NULL: no memory. */
struct web_auth *web_auth__new(const struct web_user *users, size_t n_users);
/* Whether password is user's. */
bool web_auth__check(struct web_auth *a, const char *user, const char *password);
void web_auth__free(struct web_auth *a);

#endif /* SLOTAP_WEB_AUTH_H */

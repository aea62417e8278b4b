/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --web.config.file: TLS and basic authentication of the metrics endpoint,
 * in the Prometheus exporter-toolkit's format
 * (github.com/prometheus/exporter-toolkit, docs/web-configuration.md).
 * What that format can say and slotap cannot do is refused with the key's
 * place, never ignored. Files it names (certificates, keys) are read and
 * checked at load, so a bad one stops the agent before anything is loaded.
 */
#ifndef SLOTAP_WEB_CONFIG_H
#define SLOTAP_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* Largest web config file, and largest PEM file it names. */
#define WEB_CONFIG_FILE_MAX	(64u << 10)
#define WEB_CONFIG_PEM_MAX	(1u << 20)
/* Most basic_auth_users, and longest user name. */
#define WEB_CONFIG_MAX_USERS	64
#define WEB_CONFIG_USER_MAX	128
/* Longest value of an http_server_config header. */
#define WEB_CONFIG_HEADER_MAX	1024

/* exporter-toolkit's client_auth_type, Go's tls.ClientAuthType. */
enum web_client_auth {
	WEB_CLIENT_NONE,		/* NoClientCert */
	WEB_CLIENT_REQUEST,		/* RequestClientCert: asked for, not checked */
	WEB_CLIENT_REQUIRE_ANY,		/* RequireAnyClientCert: required, not checked */
	WEB_CLIENT_VERIFY_IF_GIVEN,	/* VerifyClientCertIfGiven */
	WEB_CLIENT_REQUIRE_VERIFY,	/* RequireAndVerifyClientCert */
};

enum web_tls_version { WEB_TLS10, WEB_TLS11, WEB_TLS12, WEB_TLS13 };

struct web_user {
	char *name;
	char *hash;		/* bcrypt: $2a$, $2b$ or $2y$ */
};

struct web_header {
	char *name, *value;
};

struct web_config {
	char *source;		/* the file, as given */
	bool tls;
	/* PEM, NUL-terminated; len without the NUL */
	char *cert, *key, *client_ca;
	size_t cert_len, key_len, client_ca_len;
	enum web_client_auth client_auth;
	enum web_tls_version min_version, max_version;
	bool prefer_server_cipher_suites;
	/* GnuTLS priority string for the above, checked at load */
	char *priorities;
	struct web_user *users;
	size_t n_users;
	struct web_header *headers;
	size_t n_headers;
};

/*
 * Loads path into *wc (zeroed on error). One line in err on error:
 * "FILE:LINE:COLUMN: key.path: message", or "FILE: message" for the file
 * itself. Returns 0, -EINVAL, -ENOMEM, -EFBIG or the error of opening it.
 */
int web_config__load_file(struct web_config *wc, const char *path, char *err, size_t errlen);
/* The same from len bytes; relative file names are taken from dir. */
int web_config__load_string(struct web_config *wc, const char *yaml, size_t len,
			    const char *source, const char *dir, char *err, size_t errlen);
void web_config__free(struct web_config *wc);

#endif /* SLOTAP_WEB_CONFIG_H */

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The web config file (exporter-toolkit's format) onto struct web_config.
 * The certificates and the key it names are read and parsed here with
 * GnuTLS, the library the metrics server's TLS is, so that a file the
 * server would refuse is refused at load, with its key's place.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <yaml.h>

#include "errbuf.h"
#include "web_config.h"
#include "yaml_reader.h"

#define QSIZE	YAML_READER_QUOTE_SIZE
#define PATH_SIZE	64

struct loader {
	struct yaml_reader rd;
	const char *dir;	/* relative file names are taken from here */
	struct web_config *wc;
};

static const char *const root_keys[] = {
	"tls_server_config", "http_server_config", "basic_auth_users", "rate_limit", NULL,
};
enum { R_TLS, R_HTTP, R_USERS, R_RATE };

static const char *const tls_keys[] = {
	"cert_file", "key_file", "cert", "key", "client_auth_type", "client_ca_file",
	"client_ca", "min_version", "max_version", "prefer_server_cipher_suites",
	"cipher_suites", "curve_preferences", "client_allowed_sans", NULL,
};
enum {
	T_CERT_FILE, T_KEY_FILE, T_CERT, T_KEY, T_CLIENT_AUTH, T_CA_FILE, T_CA, T_MIN, T_MAX,
	T_PREFER, T_CIPHERS, T_CURVES, T_SANS,
};

static const char *const http_keys[] = { "http2", "headers", NULL };
enum { H_HTTP2, H_HEADERS };

/* The headers exporter-toolkit lets a web config set, and no others. */
static const char *const header_keys[] = {
	"Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options",
	"X-XSS-Protection", "Content-Security-Policy", NULL,
};
enum { HDR_HSTS, HDR_CONTENT_TYPE_OPTIONS, HDR_FRAME_OPTIONS };

static const char *const client_auth_words[] = {
	"NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven",
	"RequireAndVerifyClientCert", NULL,
};
static const char *const version_words[] = { "TLS10", "TLS11", "TLS12", "TLS13", NULL };

/* Keys of the format that slotap refuses, and why. */
static const struct {
	int key;
	const char *why;
} tls_unsupported[] = {
	{ T_CIPHERS, "GnuTLS picks the cipher suites of min_version..max_version" },
	{ T_CURVES, "GnuTLS picks the key exchange groups" },
	{ T_SANS, "a client certificate is checked against client_ca_file only" },
};

/* The whole file, NUL-terminated; -EFBIG past max bytes. */
static int read_whole(const char *path, size_t max, char **out, size_t *len)
{
	size_t n = 0, cap = 0;
	char *buf = NULL, *nbuf;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t got;

		if (n + 1 >= cap) {
			if (cap > max) {
				ret = -EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 4096;
			if (cap > max + 2)
				cap = max + 2;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				ret = -ENOMEM;
				break;
			}
			buf = nbuf;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = -errno;
			break;
		}
		if (!got)
			break;
		n += got;
		if (n > max) {
			ret = -EFBIG;
			break;
		}
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/*
 * A PEM text given inline (the key k_inline) or by file name (k_file), one
 * of them; NULL in *out when neither is there.
 */
static int load_pem(struct loader *ld, const struct yaml_fields *f, int k_file, int k_inline,
		    char **out, size_t *len, const yaml_node_t **blame, char *path)
{
	char q[QSIZE], ebuf[128], *full = NULL;
	const char *s;
	int err;

	*out = NULL;
	if (f->val[k_file] && f->val[k_inline]) {
		snprintf(path, PATH_SIZE, "tls_server_config.%s", tls_keys[k_inline]);
		return yaml_reader__error(&ld->rd, f->key[k_inline], path, "%s is given too: one of them",
					  tls_keys[k_file]);
	}
	if (f->val[k_inline]) {
		snprintf(path, PATH_SIZE, "tls_server_config.%s", tls_keys[k_inline]);
		*blame = f->val[k_inline];
		err = yaml_reader__get_string(&ld->rd, *blame, path, "a PEM text", &s);
		if (err)
			return err;
		*out = strdup(s);
		*len = strlen(s);
		return *out ? 0 : yaml_reader__oom(&ld->rd);
	}
	if (!f->val[k_file])
		return 0;
	snprintf(path, PATH_SIZE, "tls_server_config.%s", tls_keys[k_file]);
	*blame = f->val[k_file];
	err = yaml_reader__get_string(&ld->rd, *blame, path, "a file name", &s);
	if (err)
		return err;
	if (s[0] == '/' || !ld->dir)
		full = strdup(s);
	else if (asprintf(&full, "%s/%s", ld->dir, s) < 0)
		full = NULL;
	if (!full)
		return yaml_reader__oom(&ld->rd);
	err = read_whole(full, WEB_CONFIG_PEM_MAX, out, len);
	if (err == -EFBIG)
		err = yaml_reader__error(&ld->rd, *blame, path, "%s is larger than %u bytes",
					 yaml_reader__quote(q, full, strlen(full)), WEB_CONFIG_PEM_MAX);
	else if (err == -ENOMEM)
		err = yaml_reader__oom(&ld->rd);
	else if (err)
		err = yaml_reader__error(&ld->rd, *blame, path, "cannot read %s: %s",
					 yaml_reader__quote(q, full, strlen(full)),
					 strerror_r(-err, ebuf, sizeof(ebuf)));
	free(full);
	return err;
}

/* Certificates, one at least: a server's chain, or client CAs. */
static int check_certs(struct loader *ld, const char *pem, size_t len, const yaml_node_t *blame,
		       const char *path)
{
	gnutls_datum_t d = { (unsigned char *)pem, len };
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	int ret = gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0);

	if (ret < 0)
		return yaml_reader__error(&ld->rd, blame, path, "no PEM certificate: %s",
					  gnutls_strerror(ret));
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	return 0;
}

/* The key parses, unencrypted, and is the certificate's. */
static int check_key(struct loader *ld, const yaml_node_t *blame, const char *path)
{
	struct web_config *wc = ld->wc;
	gnutls_datum_t cert = { (unsigned char *)wc->cert, wc->cert_len };
	gnutls_datum_t key = { (unsigned char *)wc->key, wc->key_len };
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_x509_privkey_t pk = NULL;
	int ret;

	ret = gnutls_x509_privkey_init(&pk);
	if (ret < 0)
		return yaml_reader__oom(&ld->rd);
	ret = gnutls_x509_privkey_import2(pk, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_x509_privkey_deinit(pk);
	if (ret < 0)
		return yaml_reader__error(&ld->rd, blame, path,
					  "no PEM private key (encrypted keys are not supported): %s",
					  gnutls_strerror(ret));
	ret = gnutls_certificate_allocate_credentials(&cred);
	if (ret < 0)
		return yaml_reader__oom(&ld->rd);
	ret = gnutls_certificate_set_x509_key_mem2(cred, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (ret < 0)
		return yaml_reader__error(&ld->rd, blame, path,
					  "does not go with the certificate: %s",
					  gnutls_strerror(ret));
	return 0;
}

static int load_versions(struct loader *ld, const yaml_node_t *tls, const struct yaml_fields *f)
{
	struct web_config *wc = ld->wc;
	int v, err;

	wc->min_version = WEB_TLS12;	/* exporter-toolkit's defaults */
	wc->max_version = WEB_TLS13;
	if (f->val[T_MIN]) {
		err = yaml_reader__get_keyword(&ld->rd, f->val[T_MIN], "tls_server_config.min_version",
					       "a TLS version", "TLS10, TLS11, TLS12 or TLS13",
					       version_words, &v);
		if (err)
			return err;
		wc->min_version = v;
	}
	if (f->val[T_MAX]) {
		err = yaml_reader__get_keyword(&ld->rd, f->val[T_MAX], "tls_server_config.max_version",
					       "a TLS version", "TLS10, TLS11, TLS12 or TLS13",
					       version_words, &v);
		if (err)
			return err;
		wc->max_version = v;
	}
	if (wc->min_version > wc->max_version)
		return yaml_reader__error(&ld->rd, f->val[T_MAX] ? f->val[T_MAX] : tls,
					  "tls_server_config.max_version", "%s is below min_version %s",
					  version_words[wc->max_version],
					  version_words[wc->min_version]);
	return 0;
}

/* GnuTLS's priority string for the versions and the suite order. */
static int make_priorities(struct loader *ld, const yaml_node_t *tls)
{
	static const char *const vers[] = { "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3" };
	struct web_config *wc = ld->wc;
	gnutls_priority_t prio;
	const char *errpos = NULL;
	char buf[160];
	size_t o;
	int ret;

	o = snprintf(buf, sizeof(buf), "NORMAL:-VERS-ALL");
	for (int v = wc->max_version; v >= (int)wc->min_version; v--)
		o += snprintf(buf + o, sizeof(buf) - o, ":+VERS-%s", vers[v]);
	if (wc->prefer_server_cipher_suites)
		snprintf(buf + o, sizeof(buf) - o, ":%%SERVER_PRECEDENCE");
	ret = gnutls_priority_init(&prio, buf, &errpos);
	if (ret < 0)
		return yaml_reader__error(&ld->rd, tls, "tls_server_config",
					  "GnuTLS refuses the versions %s..%s: %s",
					  version_words[wc->min_version],
					  version_words[wc->max_version], gnutls_strerror(ret));
	gnutls_priority_deinit(prio);
	wc->priorities = strdup(buf);
	return wc->priorities ? 0 : yaml_reader__oom(&ld->rd);
}

static int load_tls(struct loader *ld, const yaml_node_t *tls)
{
	struct web_config *wc = ld->wc;
	const yaml_node_t *cert_node = NULL, *key_node = NULL, *ca_node = NULL;
	char cert_path[PATH_SIZE], key_path[PATH_SIZE], ca_path[PATH_SIZE];
	struct yaml_fields f;
	int v, err;
	size_t i;

	if (yaml_reader__is_null(tls))
		return 0;
	err = yaml_reader__walk(&ld->rd, tls, "tls_server_config", tls_keys, &f);
	if (err || !f.n)
		return err;
	for (i = 0; i < sizeof(tls_unsupported) / sizeof(tls_unsupported[0]); i++) {
		int k = tls_unsupported[i].key;

		if (f.key[k])
			return yaml_reader__error(&ld->rd, f.key[k], "tls_server_config",
						  "%s is not supported: %s", tls_keys[k],
						  tls_unsupported[i].why);
	}
	err = load_pem(ld, &f, T_CERT_FILE, T_CERT, &wc->cert, &wc->cert_len, &cert_node,
		       cert_path);
	if (!err)
		err = load_pem(ld, &f, T_KEY_FILE, T_KEY, &wc->key, &wc->key_len, &key_node,
			       key_path);
	if (!err)
		err = load_pem(ld, &f, T_CA_FILE, T_CA, &wc->client_ca, &wc->client_ca_len,
			       &ca_node, ca_path);
	if (err)
		return err;
	if (!wc->cert)
		return yaml_reader__error(&ld->rd, tls, "tls_server_config",
					  "missing required key \"cert_file\" (or \"cert\")");
	if (!wc->key)
		return yaml_reader__error(&ld->rd, tls, "tls_server_config",
					  "missing required key \"key_file\" (or \"key\")");
	err = check_certs(ld, wc->cert, wc->cert_len, cert_node, cert_path);
	if (!err)
		err = check_key(ld, key_node, key_path);
	if (!err && wc->client_ca)
		err = check_certs(ld, wc->client_ca, wc->client_ca_len, ca_node, ca_path);
	if (err)
		return err;

	if (f.val[T_CLIENT_AUTH]) {
		err = yaml_reader__get_keyword(&ld->rd, f.val[T_CLIENT_AUTH],
					       "tls_server_config.client_auth_type",
					       "a client auth type",
					       "NoClientCert, RequestClientCert, RequireAnyClientCert, "
					       "VerifyClientCertIfGiven or RequireAndVerifyClientCert",
					       client_auth_words, &v);
		if (err)
			return err;
		wc->client_auth = v;
	}
	if (wc->client_ca && wc->client_auth == WEB_CLIENT_NONE)
		return yaml_reader__error(&ld->rd, ca_node, ca_path,
					  "client CAs given but client_auth_type is NoClientCert");
	if (!wc->client_ca && (wc->client_auth == WEB_CLIENT_VERIFY_IF_GIVEN ||
			       wc->client_auth == WEB_CLIENT_REQUIRE_VERIFY))
		return yaml_reader__error(&ld->rd, f.val[T_CLIENT_AUTH],
					  "tls_server_config.client_auth_type",
					  "%s needs client_ca_file (or client_ca)",
					  client_auth_words[wc->client_auth]);

	wc->prefer_server_cipher_suites = true;
	if (f.val[T_PREFER]) {
		err = yaml_reader__get_bool(&ld->rd, f.val[T_PREFER],
					    "tls_server_config.prefer_server_cipher_suites",
					    &wc->prefer_server_cipher_suites);
		if (err)
			return err;
	}
	err = load_versions(ld, tls, &f);
	if (err)
		return err;
	wc->tls = true;
	return make_priorities(ld, tls);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int load_headers(struct loader *ld, const yaml_node_t *n)
{
	struct web_config *wc = ld->wc;
	char q[QSIZE], path[PATH_SIZE];
	struct yaml_fields f;
	const char *v;
	int err;

	if (yaml_reader__is_null(n))
		return 0;
	err = yaml_reader__walk(&ld->rd, n, "http_server_config.headers", header_keys, &f);
	if (err)
		return err;
	wc->headers = calloc(f.n ? f.n : 1, sizeof(*wc->headers));
	if (!wc->headers)
		return yaml_reader__oom(&ld->rd);
	for (unsigned i = 0; i < f.n; i++) {
		int k = f.order[i];

		snprintf(path, sizeof(path), "http_server_config.headers.%s", header_keys[k]);
		err = yaml_reader__get_string(&ld->rd, f.val[k], path, "a header value", &v);
		if (err)
			return err;
		if (!*v || strlen(v) > WEB_CONFIG_HEADER_MAX || !printable(v))
			return yaml_reader__error(&ld->rd, f.val[k], path,
						  "%s is not a header value (1 to %u printable "
						  "ASCII characters)",
						  yaml_reader__quote(q, v, strlen(v)),
						  WEB_CONFIG_HEADER_MAX);
		if (k == HDR_CONTENT_TYPE_OPTIONS && strcmp(v, "nosniff"))
			return yaml_reader__error(&ld->rd, f.val[k], path, "%s is not nosniff",
						  yaml_reader__quote(q, v, strlen(v)));
		if (k == HDR_FRAME_OPTIONS && strcmp(v, "deny") && strcmp(v, "sameorigin"))
			return yaml_reader__error(&ld->rd, f.val[k], path,
						  "%s is not deny or sameorigin",
						  yaml_reader__quote(q, v, strlen(v)));
		wc->headers[wc->n_headers].name = strdup(header_keys[k]);
		wc->headers[wc->n_headers].value = strdup(v);
		if (!wc->headers[wc->n_headers].name || !wc->headers[wc->n_headers].value) {
			free(wc->headers[wc->n_headers].name);
			return yaml_reader__oom(&ld->rd);
		}
		wc->n_headers++;
	}
	return 0;
}

static int load_http(struct loader *ld, const yaml_node_t *n)
{
	struct yaml_fields f;
	bool http2 = false;
	int err;

	if (yaml_reader__is_null(n))
		return 0;
	err = yaml_reader__walk(&ld->rd, n, "http_server_config", http_keys, &f);
	if (err)
		return err;
	if (f.val[H_HTTP2]) {
		err = yaml_reader__get_bool(&ld->rd, f.val[H_HTTP2], "http_server_config.http2",
					    &http2);
		if (err)
			return err;
		if (http2)
			return yaml_reader__error(&ld->rd, f.val[H_HTTP2],
						  "http_server_config.http2",
						  "true is not supported: the endpoint speaks "
						  "HTTP/1.1 only");
	}
	return f.val[H_HEADERS] ? load_headers(ld, f.val[H_HEADERS]) : 0;
}

/*
 * A bcrypt hash libxcrypt's crypt() verifies: $2a$, $2b$ or $2y$, a cost
 * of 04 to 31, then 53 characters of salt and hash in bcrypt's base64.
 */
static bool bcrypt_hash(const char *h)
{
	static const char b64[] =
		"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	int cost;

	if (strlen(h) != 60 || strncmp(h, "$2", 2) || !strchr("aby", h[2]) || h[3] != '$' ||
	    h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return false;
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	return cost >= 4 && cost <= 31 && strspn(h + 7, b64) == 53 &&
	       crypt_checksalt(h) == CRYPT_SALT_OK;
}

static bool valid_user(const char *s)
{
	size_t n = strlen(s);

	/* a name with ':' could never log in: Basic credentials split at the first */
	return n && n <= WEB_CONFIG_USER_MAX && !strchr(s, ':') && printable(s);
}

static int load_users(struct loader *ld, const yaml_node_t *n)
{
	struct web_config *wc = ld->wc;
	const struct yaml_unique_str *dup, *first;
	struct yaml_unique names = {};
	char q[QSIZE];
	size_t i, count;
	int err = 0;

	if (yaml_reader__is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return yaml_reader__type_error(&ld->rd, n, "basic_auth_users",
					       "a mapping of user names to bcrypt hashes");
	count = n->data.mapping.pairs.top - n->data.mapping.pairs.start;
	if (count > WEB_CONFIG_MAX_USERS)
		return yaml_reader__error(&ld->rd, n, "basic_auth_users",
					  "%zu users, at most %u", count, WEB_CONFIG_MAX_USERS);
	wc->users = calloc(count ? count : 1, sizeof(*wc->users));
	if (!wc->users)
		return yaml_reader__oom(&ld->rd);
	for (i = 0; i < count; i++) {
		yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
		yaml_node_t *key = yaml_document_get_node(ld->rd.doc, pair->key);
		yaml_node_t *val = yaml_document_get_node(ld->rd.doc, pair->value);
		struct web_user *u = &wc->users[i];
		const char *name, *hash;

		err = yaml_reader__get_string(&ld->rd, key, "basic_auth_users", "a user name",
					      &name);
		if (err)
			goto out;
		if (!valid_user(name)) {
			err = yaml_reader__error(&ld->rd, key, "basic_auth_users",
						 "%s is not a user name (1 to %u printable ASCII "
						 "characters, no ':')",
						 yaml_reader__quote(q, name, strlen(name)),
						 WEB_CONFIG_USER_MAX);
			goto out;
		}
		err = yaml_reader__get_string(&ld->rd, val, "basic_auth_users", "a bcrypt hash",
					      &hash);
		if (err)
			goto out;
		if (!bcrypt_hash(hash)) {
			err = yaml_reader__error(&ld->rd, val, "basic_auth_users",
						 "user %s: not a bcrypt hash ($2a$, $2b$ or $2y$, 60 "
						 "characters; htpasswd -nBC 10 USER makes one)",
						 yaml_reader__quote(q, name, strlen(name)));
			goto out;
		}
		err = yaml_unique__add(&ld->rd, &names, name, key, 0, -1);
		if (err)
			goto out;
		u->name = strdup(name);
		u->hash = strdup(hash);
		wc->n_users++;
		if (!u->name || !u->hash) {
			err = yaml_reader__oom(&ld->rd);
			goto out;
		}
	}
	dup = yaml_unique__first_dup(&names, false, &first);
	if (dup)
		err = yaml_reader__error(&ld->rd, dup->node, "basic_auth_users",
					 "duplicate user %s (first at line %zu)",
					 yaml_reader__quote(q, dup->s, strlen(dup->s)),
					 first->node->start_mark.line + 1);
out:
	yaml_unique__free(&names);
	return err;
}

static int load_root(struct loader *ld, const yaml_node_t *root)
{
	struct yaml_fields f;
	int err;

	if (!root || yaml_reader__is_null(root))
		return 0;	/* an empty file: plain HTTP, no authentication */
	err = yaml_reader__walk(&ld->rd, root, NULL, root_keys, &f);
	if (err)
		return err;
	if (f.key[R_RATE])
		return yaml_reader__error(&ld->rd, f.key[R_RATE], NULL,
					  "rate_limit is not supported: the endpoint limits "
					  "connections per client instead");
	err = f.val[R_TLS] ? load_tls(ld, f.val[R_TLS]) : 0;
	if (!err && f.val[R_HTTP])
		err = load_http(ld, f.val[R_HTTP]);
	if (!err && f.val[R_USERS])
		err = load_users(ld, f.val[R_USERS]);
	return err;
}

/* A web config is a few dozen nodes, 4 deep: far more is no web config. */
static const struct yaml_limits web_limits = {
	.depth = 16, .nodes = 10000, .anchors = 100,
};

int web_config__load_string(struct web_config *wc, const char *yaml, size_t len,
			    const char *source, const char *dir, char *err, size_t errlen)
{
	struct web_config tmp = {};
	struct loader ld = { .dir = dir, .wc = &tmp };
	yaml_parser_t parser;
	yaml_document_t doc;
	size_t expanded = 0;
	int ret;

	memset(wc, 0, sizeof(*wc));
	errbuf__set(err, errlen, "%s", "");
	tmp.source = strdup(source ? source : "<string>");
	if (!tmp.source) {
		errbuf__set(err, errlen, "%s: out of memory", source);
		return -ENOMEM;
	}
	ld.rd.source = tmp.source;
	ld.rd.err = err;
	ld.rd.errlen = errlen;
	if (!yaml_parser_initialize(&parser)) {
		web_config__free(&tmp);
		errbuf__set(err, errlen, "%s: out of memory", source);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	ret = yaml_reader__prescan(&ld.rd, yaml, len, &web_limits);
	if (ret)
		goto out_parser;
	if (!yaml_parser_load(&parser, &doc)) {
		ret = yaml_reader__parser_error(&ld.rd, &parser, yaml, len);
		goto out_parser;
	}
	ret = yaml_reader__add_expanded(&ld.rd, &doc, &web_limits, &expanded);
	if (ret) {
		yaml_document_delete(&doc);
		goto out_parser;
	}
	ld.rd.doc = &doc;
	ret = load_root(&ld, yaml_document_get_root_node(&doc));
	if (!ret && yaml_document_get_root_node(&doc)) {
		yaml_document_t next;

		/* one document: a second would be ignored by exporter-toolkit's reader */
		if (!yaml_parser_load(&parser, &next)) {
			ret = yaml_reader__parser_error(&ld.rd, &parser, yaml, len);
		} else {
			if (yaml_document_get_root_node(&next))
				ret = yaml_reader__error_at(&ld.rd, next.start_mark.line,
							    next.start_mark.column, NULL,
							    "a second YAML document: one only");
			yaml_document_delete(&next);
		}
	}
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	if (ret) {
		web_config__free(&tmp);
		return ret;
	}
	*wc = tmp;
	return 0;
}

int web_config__load_file(struct web_config *wc, const char *path, char *err, size_t errlen)
{
	char *buf = NULL, *copy, ebuf[128];
	size_t len = 0;
	int ret;

	memset(wc, 0, sizeof(*wc));
	ret = read_whole(path, WEB_CONFIG_FILE_MAX, &buf, &len);
	if (ret == -EFBIG) {
		errbuf__set(err, errlen, "%s: larger than %u bytes", path, WEB_CONFIG_FILE_MAX);
		return ret;
	}
	if (ret) {
		errbuf__set(err, errlen, "%s: %s", path, strerror_r(-ret, ebuf, sizeof(ebuf)));
		return ret;
	}
	/* files it names are relative to its own directory, as exporter-toolkit has it */
	copy = strdup(path);
	if (!copy) {
		free(buf);
		errbuf__set(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	ret = web_config__load_string(wc, buf, len, path, dirname(copy), err, errlen);
	free(copy);
	free(buf);
	return ret;
}

static void free_secret(char *s, size_t len)
{
	if (s)
		explicit_bzero(s, len);
	free(s);
}

void web_config__free(struct web_config *wc)
{
	size_t i;

	free(wc->source);
	free(wc->cert);
	free_secret(wc->key, wc->key_len);
	free(wc->client_ca);
	free(wc->priorities);
	for (i = 0; i < wc->n_users; i++) {
		free(wc->users[i].name);
		free(wc->users[i].hash);
	}
	free(wc->users);
	for (i = 0; i < wc->n_headers; i++) {
		free(wc->headers[i].name);
		free(wc->headers[i].value);
	}
	free(wc->headers);
	memset(wc, 0, sizeof(*wc));
}

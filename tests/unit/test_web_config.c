// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * --web.config.file: what loads, and every way a file is refused, with its
 * place. Certificates and keys are made by openssl in a temporary
 * directory; bcrypt hashes by libxcrypt (cost 4, the cheapest).
 */
#include <crypt.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "web_auth.h"
#include "web_config.h"

static char dir[64];
static char hash_secret[64], hash_other[64];	/* bcrypt of "secret", of "other" */
static char *cert_pem, *key_pem;		/* server.crt, server.key, inline */

static char *slurp(const char *name)
{
	char path[128], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), n);
	fclose(f);
	return buf;
}

static void make_hash(const char *password, char out[64])
{
	struct crypt_data cd = {};
	char salt[64];

	assert_non_null(crypt_gensalt_rn("$2b$", 4, NULL, 0, salt, sizeof(salt)));
	assert_non_null(crypt_r(password, salt, &cd));
	assert_int_equal(strlen(cd.output), 60);
	strcpy(out, cd.output);
}

static int setup(void **state)
{
	char cmd[2048];

	(void)state;
	strcpy(dir, "/tmp/slotap-webcfg-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* a CA, a server certificate it signs, a client one, and a stray key */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && exec >log 2>&1 && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-days 2 -subj /CN=ca -keyout ca.key -out ca.crt && "
		 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-subj /CN=localhost -keyout server.key -out server.csr && "
		 "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
		 "-days 2 -out server.crt && "
		 "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out other.key && "
		 "openssl pkey -in other.key -aes256 -passout pass:x -out encrypted.key && "
		 "mkdir sub && cp server.crt server.key sub/ && "
		 "printf 'not a certificate\\n' > junk.pem && "
		 "head -c %u /dev/zero > huge.pem",
		 dir, WEB_CONFIG_PEM_MAX + 1);
	if (system(cmd)) {
		fprintf(stderr, "openssl failed: see %s/log\n", dir);
		return -1;
	}
	make_hash("secret", hash_secret);
	make_hash("other", hash_other);
	cert_pem = slurp("server.crt");
	key_pem = slurp("server.key");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	free(cert_pem);
	free(key_pem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static int load(struct web_config *wc, const char *yaml, char *err, size_t errlen)
{
	return web_config__load_string(wc, yaml, strlen(yaml), "web.yml", dir, err, errlen);
}

static bool is_zeroed(const struct web_config *wc)
{
	static const struct web_config zero;

	return !memcmp(wc, &zero, sizeof(zero));
}

static void empty_files(void **state)
{
	static const char *const empty[] = { "", "\n", "# nothing\n", "~\n", "---\n",
					     "tls_server_config:\n", "tls_server_config: {}\n",
					     "basic_auth_users: {}\nhttp_server_config: {}\n" };
	struct web_config wc;
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		if (load(&wc, empty[i], err, sizeof(err)))
			fail_msg("%s: %s", empty[i], err);
		assert_false(wc.tls);
		assert_int_equal(wc.n_users, 0);
		assert_int_equal(wc.n_headers, 0);
		web_config__free(&wc);
	}
}

static void full_file(void **state)
{
	struct web_config wc;
	char yaml[1024], err[512];

	(void)state;
	snprintf(yaml, sizeof(yaml),
		 "tls_server_config:\n"
		 "  cert_file: server.crt\n"
		 "  key_file: %s/server.key\n"	/* absolute too */
		 "  client_auth_type: RequireAndVerifyClientCert\n"
		 "  client_ca_file: ca.crt\n"
		 "  min_version: TLS13\n"
		 "  prefer_server_cipher_suites: false\n"
		 "http_server_config:\n"
		 "  http2: false\n"
		 "  headers:\n"
		 "    X-Frame-Options: sameorigin\n"
		 "    Strict-Transport-Security: max-age=31536000\n"
		 "basic_auth_users:\n"
		 "  alice: %s\n"
		 "  \"bob smith\": '%s'\n",
		 dir, hash_secret, hash_other);
	if (load(&wc, yaml, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(wc.tls);
	assert_string_equal(wc.cert, cert_pem);
	assert_int_equal(wc.cert_len, strlen(cert_pem));
	assert_string_equal(wc.key, key_pem);
	assert_non_null(strstr(wc.client_ca, "BEGIN CERTIFICATE"));
	assert_int_equal(wc.client_auth, WEB_CLIENT_REQUIRE_VERIFY);
	assert_int_equal(wc.min_version, WEB_TLS13);
	assert_int_equal(wc.max_version, WEB_TLS13);
	assert_false(wc.prefer_server_cipher_suites);
	assert_string_equal(wc.priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
	assert_int_equal(wc.n_headers, 2);
	assert_string_equal(wc.headers[0].name, "X-Frame-Options");
	assert_string_equal(wc.headers[0].value, "sameorigin");
	assert_string_equal(wc.headers[1].name, "Strict-Transport-Security");
	assert_int_equal(wc.n_users, 2);
	assert_string_equal(wc.users[0].name, "alice");
	assert_string_equal(wc.users[0].hash, hash_secret);
	assert_string_equal(wc.users[1].name, "bob smith");
	web_config__free(&wc);
	assert_true(is_zeroed(&wc));
}

/* "  KEY: |" and pem's lines indented by four: a YAML block scalar */
static size_t block(char *buf, const char *key, const char *pem)
{
	size_t n = sprintf(buf, "  %s: |\n", key);

	for (const char *l = pem, *nl; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		n += sprintf(buf + n, "    %.*s\n", (int)(nl - l), l);
	}
	return n;
}

static void inline_pem_and_defaults(void **state)
{
	char *yaml = malloc(2 * (strlen(cert_pem) + strlen(key_pem)) + 64), err[512];
	struct web_config wc;
	size_t n;

	(void)state;
	assert_non_null(yaml);
	n = sprintf(yaml, "tls_server_config:\n");
	n += block(yaml + n, "cert", cert_pem);
	block(yaml + n, "key", key_pem);
	if (load(&wc, yaml, err, sizeof(err)))
		fail_msg("%s", err);
	free(yaml);
	assert_true(wc.tls);
	assert_string_equal(wc.cert, cert_pem);
	assert_string_equal(wc.key, key_pem);
	assert_null(wc.client_ca);
	assert_int_equal(wc.client_auth, WEB_CLIENT_NONE);
	/* exporter-toolkit's defaults: TLS 1.2 to 1.3, the server's suite order */
	assert_int_equal(wc.min_version, WEB_TLS12);
	assert_int_equal(wc.max_version, WEB_TLS13);
	assert_true(wc.prefer_server_cipher_suites);
	assert_string_equal(wc.priorities,
			    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE");
	web_config__free(&wc);
}

static void relative_to_the_file(void **state)
{
	struct web_config wc;
	char path[128], err[512];
	FILE *f;

	(void)state;
	/* sub/web.yml names sub/server.crt as "server.crt", whatever the cwd */
	snprintf(path, sizeof(path), "%s/sub/web.yml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n", f);
	fclose(f);
	if (web_config__load_file(&wc, path, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(wc.tls);
	assert_string_equal(wc.source, path);
	web_config__free(&wc);

	snprintf(path, sizeof(path), "%s/none.yml", dir);
	assert_int_equal(web_config__load_file(&wc, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "none.yml: No such file or directory"));
	assert_true(is_zeroed(&wc));

	/* one byte over the limit */
	snprintf(path, sizeof(path), "%s/big.yml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned i = 0; i <= WEB_CONFIG_FILE_MAX; i++)
		fputc('#', f);
	fclose(f);
	assert_int_equal(web_config__load_file(&wc, path, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "big.yml: larger than 65536 bytes"));
}

/* "TLS:" below stands for a valid cert_file and key_file */
#define TLS	"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"

static void bad_files(void **state)
{
	struct {
		const char *yaml;	/* %s: a valid bcrypt hash */
		const char *want;	/* "LINE:COL: message", after "web.yml:" */
	} bad[] = {
		{ "tls_server_config: [\n", "2:1: invalid YAML: did not find expected node content "
					    "(while parsing a flow node at 2:1)" },
		{ "- 1\n", "1:1: expected a mapping, got a list" },
		/* what would cost far more than its size to load (yaml_reader__prescan) */
		{ "x: [[[[[[[[[[[[[[[[[[[[\n", "1:19: lists and mappings nested more than 16 deep" },
		{ "a: &a [1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		  "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
		  "1:1: with its aliases written out, the config has more than 10000 YAML nodes" },
		{ "tls_config: {}\n", "1:1: unknown key \"tls_config\"" },
		{ "rate_limit: {interval: 1s, burst: 2}\n",
		  "1:1: rate_limit is not supported: the endpoint limits connections per client instead" },
		{ "tls_server_config: 1\n", "1:20: tls_server_config: expected a mapping, got 1" },
		{ TLS "  cert_fil: x\n", "4:3: tls_server_config: unknown key \"cert_fil\"" },
		{ TLS "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
		  "4:3: tls_server_config: cipher_suites is not supported: GnuTLS picks the cipher "
		  "suites of min_version..max_version" },
		{ TLS "  curve_preferences: [X25519]\n",
		  "4:3: tls_server_config: curve_preferences is not supported: GnuTLS picks the "
		  "key exchange groups" },
		{ TLS "  client_allowed_sans: [a]\n",
		  "4:3: tls_server_config: client_allowed_sans is not supported: a client "
		  "certificate is checked against client_ca_file only" },
		{ TLS "  cert_file: server.crt\n",
		  "4:3: tls_server_config: duplicate key \"cert_file\"" },
		{ TLS "  cert: x\n", "4:3: tls_server_config.cert: cert_file is given too: one of them" },
		{ TLS "  key: x\n", "4:3: tls_server_config.key: key_file is given too: one of them" },
		{ "tls_server_config:\n  cert_file: [a]\n  key_file: server.key\n",
		  "2:14: tls_server_config.cert_file: expected a file name, got a list" },
		{ "tls_server_config:\n  cert_file: ~\n  key_file: server.key\n",
		  "2:14: tls_server_config.cert_file: expected a file name, got null" },
		{ "tls_server_config:\n  cert_file: none.crt\n  key_file: server.key\n",
		  "2:14: tls_server_config.cert_file: cannot read \"/tmp/slotap-webcfg-" },
		{ "tls_server_config:\n  cert_file: huge.pem\n  key_file: server.key\n",
		  "2:14: tls_server_config.cert_file: \"/tmp/slotap-webcfg-" },
		{ "tls_server_config:\n  key_file: server.key\n",
		  "2:3: tls_server_config: missing required key \"cert_file\" (or \"cert\")" },
		{ "tls_server_config:\n  cert_file: server.crt\n  min_version: TLS13\n",
		  "2:3: tls_server_config: missing required key \"key_file\" (or \"key\")" },
		{ "tls_server_config:\n  cert_file: junk.pem\n  key_file: server.key\n",
		  "2:14: tls_server_config.cert_file: no PEM certificate: " },
		{ "tls_server_config:\n  cert_file: server.crt\n  key_file: junk.pem\n",
		  "3:13: tls_server_config.key_file: no PEM private key (encrypted keys are not "
		  "supported): " },
		{ "tls_server_config:\n  cert_file: server.crt\n  key_file: encrypted.key\n",
		  "3:13: tls_server_config.key_file: no PEM private key (encrypted keys are not "
		  "supported): " },
		{ "tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n",
		  "3:13: tls_server_config.key_file: does not go with the certificate: " },
		{ "tls_server_config:\n  cert: \"x\"\n  key_file: server.key\n",
		  "2:9: tls_server_config.cert: no PEM certificate: " },
		{ TLS "  client_ca_file: junk.pem\n  client_auth_type: RequestClientCert\n",
		  "4:19: tls_server_config.client_ca_file: no PEM certificate: " },
		{ TLS "  client_auth_type: RequireAndVerify\n",
		  "4:21: tls_server_config.client_auth_type: \"RequireAndVerify\" is not "
		  "NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven "
		  "or RequireAndVerifyClientCert" },
		{ TLS "  client_ca_file: ca.crt\n",
		  "4:19: tls_server_config.client_ca_file: client CAs given but client_auth_type "
		  "is NoClientCert" },
		{ TLS "  client_auth_type: RequireAndVerifyClientCert\n",
		  "4:21: tls_server_config.client_auth_type: RequireAndVerifyClientCert needs "
		  "client_ca_file (or client_ca)" },
		{ TLS "  client_auth_type: VerifyClientCertIfGiven\n",
		  "4:21: tls_server_config.client_auth_type: VerifyClientCertIfGiven needs "
		  "client_ca_file (or client_ca)" },
		{ TLS "  prefer_server_cipher_suites: yes please\n",
		  "4:32: tls_server_config.prefer_server_cipher_suites: expected true or false, "
		  "got \"yes please\"" },
		{ TLS "  prefer_server_cipher_suites: \"true\"\n",
		  "4:32: tls_server_config.prefer_server_cipher_suites: expected true or false, "
		  "got \"true\"" },
		{ TLS "  min_version: TLS1.2\n",
		  "4:16: tls_server_config.min_version: \"TLS1.2\" is not TLS10, TLS11, TLS12 or TLS13" },
		{ TLS "  max_version: 13\n",
		  "4:16: tls_server_config.max_version: \"13\" is not TLS10, TLS11, TLS12 or TLS13" },
		{ TLS "  min_version: TLS13\n  max_version: TLS12\n",
		  "5:16: tls_server_config.max_version: TLS12 is below min_version TLS13" },
		{ "http_server_config: [a]\n",
		  "1:21: http_server_config: expected a mapping, got a list" },
		{ "http_server_config:\n  headerz: {}\n",
		  "2:3: http_server_config: unknown key \"headerz\"" },
		{ "http_server_config:\n  http2: true\n",
		  "2:10: http_server_config.http2: true is not supported: the endpoint speaks "
		  "HTTP/1.1 only" },
		{ "http_server_config:\n  http2: 1\n",
		  "2:10: http_server_config.http2: expected true or false, got 1" },
		{ "http_server_config:\n  headers: [a]\n",
		  "2:12: http_server_config.headers: expected a mapping, got a list" },
		{ "http_server_config:\n  headers:\n    Server: slotap\n",
		  "3:5: http_server_config.headers: unknown key \"Server\"" },
		{ "http_server_config:\n  headers:\n    x-frame-options: deny\n",
		  "3:5: http_server_config.headers: unknown key \"x-frame-options\"" },
		{ "http_server_config:\n  headers:\n    X-Frame-Options: [deny]\n",
		  "3:22: http_server_config.headers.X-Frame-Options: expected a header value, got a list" },
		{ "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
		  "3:22: http_server_config.headers.X-Frame-Options: \"allow\" is not deny or sameorigin" },
		{ "http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
		  "3:29: http_server_config.headers.X-Content-Type-Options: \"sniff\" is not nosniff" },
		{ "http_server_config:\n  headers:\n    X-XSS-Protection: \"1\\r\\nSet-Cookie: a=b\"\n",
		  "3:23: http_server_config.headers.X-XSS-Protection: \"1\\x0d\\x0aSet-Cookie: a=b\" is "
		  "not a header value (1 to 1024 printable ASCII characters)" },
		{ "http_server_config:\n  headers:\n    Content-Security-Policy: \"\"\n",
		  "3:30: http_server_config.headers.Content-Security-Policy: \"\" is not a header "
		  "value (1 to 1024 printable ASCII characters)" },
		{ "basic_auth_users: [alice]\n",
		  "1:19: basic_auth_users: expected a mapping of user names to bcrypt hashes, got a list" },
		{ "basic_auth_users:\n  \"a:b\": %s\n",
		  "2:3: basic_auth_users: \"a:b\" is not a user name (1 to 128 printable ASCII "
		  "characters, no ':')" },
		{ "basic_auth_users:\n  \"\": %s\n",
		  "2:3: basic_auth_users: \"\" is not a user name (1 to 128 printable ASCII "
		  "characters, no ':')" },
		{ "basic_auth_users:\n  ~: %s\n",
		  "2:3: basic_auth_users: expected a user name, got null" },
		{ "basic_auth_users:\n  alice: secret\n",
		  "2:10: basic_auth_users: user \"alice\": not a bcrypt hash ($2a$, $2b$ or $2y$, 60 "
		  "characters; htpasswd -nBC 10 USER makes one)" },
		{ "basic_auth_users:\n  alice: $1$abcdefgh$abcdefghijklmnopqrstuv\n",
		  "2:10: basic_auth_users: user \"alice\": not a bcrypt hash" },
		{ "basic_auth_users:\n  alice: $2b$99$KmP9VZkPJ2iic925uuVos.prXepdY0Di1ozUrZqCurw2UPpLF3mLS\n",
		  "2:10: basic_auth_users: user \"alice\": not a bcrypt hash" },
		{ "basic_auth_users:\n  alice: [x]\n",
		  "2:10: basic_auth_users: expected a bcrypt hash, got a list" },
		{ "basic_auth_users:\n  alice: %s\n  bob: %s\n  alice: %s\n",
		  "4:3: basic_auth_users: duplicate user \"alice\" (first at line 2)" },
		{ TLS "---\nbasic_auth_users: {}\n", "4:1: a second YAML document: one only" },
	};
	struct web_config wc;
	char yaml[4096], err[512], want[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), bad[i].yaml, hash_secret, hash_secret, hash_secret);
		snprintf(want, sizeof(want), "web.yml:%s", bad[i].want);
		if (!load(&wc, yaml, err, sizeof(err)))
			fail_msg("case %zu loaded: %s", i, yaml);
		if (strncmp(err, want, strlen(want)))
			fail_msg("case %zu:\n  got  %s\n  want %s...", i, err, want);
		if (strchr(err, '\n'))
			fail_msg("case %zu: more than one line: %s", i, err);
		assert_true(is_zeroed(&wc));
	}
}

static void too_many_users(void **state)
{
	struct web_config wc;
	char *yaml = malloc(100 * (WEB_CONFIG_MAX_USERS + 1) + 32), err[512];
	size_t n;

	(void)state;
	assert_non_null(yaml);
	n = sprintf(yaml, "basic_auth_users:\n");
	for (int i = 0; i <= WEB_CONFIG_MAX_USERS; i++)
		n += sprintf(yaml + n, "  u%d: %s\n", i, hash_secret);
	assert_int_equal(load(&wc, yaml, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "web.yml:2:3: basic_auth_users: 65 users, at most 64");
	/* and one fewer loads */
	*strrchr(yaml, 'u') = '\0';
	*strrchr(yaml, '\n') = '\0';
	if (load(&wc, yaml, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(wc.n_users, WEB_CONFIG_MAX_USERS);
	web_config__free(&wc);
	free(yaml);
}

static void passwords(void **state)
{
	const struct web_user users[] = { { "alice", hash_secret }, { "bob", hash_other } };
	struct web_auth *a = web_auth__new(users, 2);
	char y[64];

	(void)state;
	assert_non_null(a);
	assert_true(web_auth__check(a, "alice", "secret"));
	/* again: from the cache of credentials that passed */
	assert_true(web_auth__check(a, "alice", "secret"));
	assert_false(web_auth__check(a, "alice", "other"));
	assert_false(web_auth__check(a, "alice", "secret "));
	assert_false(web_auth__check(a, "alice", ""));
	assert_false(web_auth__check(a, "bob", "secret"));
	assert_true(web_auth__check(a, "bob", "other"));
	assert_false(web_auth__check(a, "carol", "secret"));
	assert_false(web_auth__check(a, "Alice", "secret"));
	assert_false(web_auth__check(a, "", ""));
	/* $2y$ (htpasswd's) is the same algorithm */
	strcpy(y, hash_secret);
	y[2] = 'y';
	web_auth__free(a);
	a = web_auth__new(&(struct web_user){ "alice", y }, 1);
	assert_non_null(a);
	assert_true(web_auth__check(a, "alice", "secret"));
	assert_false(web_auth__check(a, "alice", "Secret"));
	web_auth__free(a);
	/* no users: nobody */
	a = web_auth__new(NULL, 0);
	assert_false(web_auth__check(a, "alice", "secret"));
	web_auth__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_files),
		cmocka_unit_test(full_file),
		cmocka_unit_test(inline_pem_and_defaults),
		cmocka_unit_test(relative_to_the_file),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(too_many_users),
		cmocka_unit_test(passwords),
	};

	return cmocka_run_group_tests_name("web_config", tests, setup, teardown);
}

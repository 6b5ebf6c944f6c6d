/*
 * fuzz_webconfig.c - libFuzzer harness for webcfg_parse (serve
 * --web-config's YAML, read with libyaml).  A file that parses must give
 * TLS settings with both files named and a GnuTLS priority string, users
 * with 60-character bcrypt hashes, and only the headers the format may
 * set; one that does not must fail with a message naming the file.  The
 * certificate files are not read here (webcfg_load's part).
 */
#include "fuzz.h"
#include "serve.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webcfg *w;
	size_t i;

	w = webcfg_parse((const char *)data, size, "/fuzz/web.yml");
	if (w == NULL) {
		fuzz_error_set();
		CHECK(strstr(pdx_last_error(), "/fuzz/web.yml") != NULL);
		return 0;
	}
	if (w->tls) {
		CHECK(w->cert_file != NULL && w->key_file != NULL);
		CHECK(w->priorities != NULL &&
		    strncmp(w->priorities, "NORMAL:", 7) == 0);
		/* relative names are made relative to the file's directory */
		CHECK(w->cert_file[0] == '/' && w->key_file[0] == '/');
	}
	CHECK(w->client_auth >= WEBCFG_NO_CLIENT_CERT &&
	    w->client_auth <= WEBCFG_REQUIRE_AND_VERIFY);
	for (i = 0; i < w->nusers; i++) {
		CHECK(strlen(w->users[i].hash) == 60);
		CHECK(*w->users[i].name != '\0');
	}
	CHECK(w->nheaders <= 5);
	for (i = 0; i < w->nheaders; i++) {
		fuzz_touch(w->headers[i].name);
		fuzz_touch(w->headers[i].value);
		CHECK(webcfg_header(w, w->headers[i].name) != NULL);
	}
	fuzz_touch(w->client_ca_file);
	webcfg_free(w);
	return 0;
}

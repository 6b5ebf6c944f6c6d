/*
 * download.c - fetching a source over HTTP(S) with libcurl for `portdex
 * update --from URL`: a bounded size, a timeout, TLS verification on, and
 * an error that names the URL.  It writes to a file the caller chose and
 * removes it on failure; parsing is registry-build.c's job.
 *
 * libcurl is loaded with dlopen() when a download is asked for: linked
 * normally, it and its TLS stack cost every portdex run about 10 ms of
 * dynamic linking, five times what a card lookup takes.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "portdex.h"

#define MAX_DOWNLOAD (64L * 1024 * 1024)

struct sink {
	FILE *f;
	long total;
};

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	s->total += (long)len;
	if (s->total > MAX_DOWNLOAD)
		return 0; /* makes curl fail with a write error */
	return fwrite(p, 1, len, s->f);
}

static struct {
	CURL *(*init)(void);
	CURLcode (*setopt)(CURL *, CURLoption, ...);
	CURLcode (*perform)(CURL *);
	CURLcode (*getinfo)(CURL *, CURLINFO, ...);
	void (*cleanup)(CURL *);
	const char *(*strerror)(CURLcode);
} cu;

static int
load_curl(void)
{
	static const char *const names[] = { "libcurl.so.4",
		"libcurl-gnutls.so.4", "libcurl.so" };
	void *h = NULL;
	size_t i;

	if (cu.init != NULL)
		return 0;
	for (i = 0; h == NULL && i < sizeof names / sizeof *names; i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		pdx_set_error("downloading needs libcurl (Debian: libcurl4): "
			      "%s",
		    dlerror());
		return -1;
	}
	*(void **)&cu.init = dlsym(h, "curl_easy_init");
	*(void **)&cu.setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&cu.perform = dlsym(h, "curl_easy_perform");
	*(void **)&cu.getinfo = dlsym(h, "curl_easy_getinfo");
	*(void **)&cu.cleanup = dlsym(h, "curl_easy_cleanup");
	*(void **)&cu.strerror = dlsym(h, "curl_easy_strerror");
	if (cu.init == NULL || cu.setopt == NULL || cu.perform == NULL ||
	    cu.getinfo == NULL || cu.cleanup == NULL || cu.strerror == NULL) {
		cu.init = NULL;
		pdx_set_error("libcurl lacks the easy interface");
		return -1;
	}
	return 0;
}

int
pdx_download(const char *url, const char *path, long timeout_s)
{
	struct sink s = { NULL, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode rc;
	long status = 0;

	if (load_curl() != 0)
		return -1;
	if ((s.f = fopen(path, "wbe")) == NULL) {
		pdx_set_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if ((c = cu.init()) == NULL) {
		fclose(s.f);
		unlink(path);
		pdx_set_error("%s: cannot start libcurl", url);
		return -1;
	}
	cu.setopt(c, CURLOPT_URL, url);
	cu.setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	cu.setopt(c, CURLOPT_WRITEDATA, &s);
	cu.setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cu.setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	cu.setopt(c, CURLOPT_MAXREDIRS, 5L);
	cu.setopt(c, CURLOPT_TIMEOUT, timeout_s);
	cu.setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	cu.setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu.setopt(c, CURLOPT_USERAGENT, "portdex/" PDX_VERSION);
	cu.setopt(c, CURLOPT_FAILONERROR, 1L);
	rc = cu.perform(c);
	cu.getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	cu.cleanup(c);
	if (fclose(s.f) != 0 && rc == CURLE_OK) {
		pdx_set_error("%s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	if (rc != CURLE_OK) {
		if (s.total > MAX_DOWNLOAD)
			pdx_set_error("%s: larger than %ld bytes", url,
			    MAX_DOWNLOAD);
		else
			pdx_set_error("%s: %s", url,
			    errbuf[0] != '\0' ? errbuf : cu.strerror(rc));
		unlink(path);
		return -1;
	}
	return 0;
}

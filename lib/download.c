/*
 * download.c - fetching a source over HTTP(S) with libcurl for `portdex
 * update --from URL`: a bounded size, a timeout, TLS verification on, and
 * an error that names the URL.  It writes to a file the caller chose and
 * removes it on failure; parsing is registry-build.c's job.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "portdex.h"

#define MAX_DOWNLOAD	(64L * 1024 * 1024)

struct sink {
	FILE	*f;
	long	 total;
};

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	s->total += (long)len;
	if (s->total > MAX_DOWNLOAD)
		return 0;	/* makes curl fail with a write error */
	return fwrite(p, 1, len, s->f);
}

int
pdx_download(const char *url, const char *path, long timeout_s)
{
	struct sink s = { NULL, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode rc;
	long status = 0;

	if ((s.f = fopen(path, "wbe")) == NULL) {
		pdx_set_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if ((c = curl_easy_init()) == NULL) {
		fclose(s.f);
		unlink(path);
		pdx_set_error("%s: cannot start libcurl", url);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "portdex/" PDX_VERSION);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
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
			pdx_set_error("%s: %s", url, errbuf[0] != '\0' ?
			    errbuf : curl_easy_strerror(rc));
		unlink(path);
		return -1;
	}
	return 0;
}

/*
 * fuzz_nmapxml.c - libFuzzer harness for pdx_nmapxml_read_mem (nmap's XML
 * report, read with libxml2's streaming reader).  Every host handed out
 * carries its arrays, every port a number in 0-65535 and a known
 * protocol; the host count returned equals the callbacks made; a
 * failure sets the error.  (fuzz_nmap.c is the nmap-services parser.)
 */
#include "fuzz.h"
#include "portdex/nmapxml.h"

static int
host_cb(json_t *run, json_t *host, void *arg)
{
	json_t *ports = json_object_get(host, "ports"), *p;
	const char *proto;
	size_t i;

	CHECK(json_is_object(run));
	CHECK(json_is_array(ports));
	CHECK(json_is_array(json_object_get(host, "hostnames")));
	CHECK(json_is_array(json_object_get(host, "addresses")));
	CHECK(json_array_size(ports) <= PDX_NMAPXML_MAX_PORTS);
	fuzz_touch(json_string_value(json_object_get(host, "address")));
	json_array_foreach(ports, i, p)
	{
		json_int_t n = json_integer_value(json_object_get(p, "port"));

		CHECK(n >= 0 && n <= 65535);
		proto = json_string_value(json_object_get(p, "proto"));
		CHECK(proto != NULL &&
		    (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0 ||
			strcmp(proto, "sctp") == 0 ||
			strcmp(proto, "ip") == 0));
		fuzz_touch(json_string_value(json_object_get(p, "state")));
	}
	(*(long *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long hosts = 0, n;

	n = pdx_nmapxml_read_mem((const char *)data, size, "fuzz.xml", host_cb,
	    &hosts);
	if (n < 0)
		fuzz_error_set();
	else
		CHECK(n == hosts);
	return 0;
}

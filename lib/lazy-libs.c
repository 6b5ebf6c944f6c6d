/*
 * lazy-libs.c - libmicrohttpd (serve), GnuTLS (serve --web-config's
 * certificate checks), libtirpc (rpc) and libnftables (the firewall
 * verdicts, firewall.c) are loaded with dlopen() the first time one of
 * their functions is called.  Linked
 * normally, they and what they pull in (GnuTLS, Kerberos: 25 libraries)
 * cost every portdex run about 5 million instructions of relocation and
 * library constructors, more than a card or an `ls` itself.  libxml2
 * (import-nmap, scan -oX) is loaded the same way: it pulls in ICU and
 * libstdc++, about 5 ms of every run.  Each function
 * used here has a forwarding stub with the library's own name and
 * prototype, hidden from the library's users; it returns the function's
 * failure value when the library is not installed.  It does not know
 * what the functions do: serve.c and rpc.c do.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <rpc/rpc.h>
#ifdef PDX_HAVE_NFTABLES
#include <nftables/libnftables.h>
#endif
#include <libxml/xmlreader.h>
#include <libxml/xmlwriter.h>

#include "portdex.h"

#define HIDDEN __attribute__((visibility("hidden")))

struct lazy_lib {
	const char *names[3]; /* sonames to try, NULL-terminated */
	const char *package;  /* Debian package, for the message */
	void *h;
};

static struct lazy_lib mhd_lib = { { "libmicrohttpd.so.12", "libmicrohttpd.so",
				       NULL },
	"libmicrohttpd12", NULL };
/* serve --web-config's TLS checks: GnuTLS, which libmicrohttpd uses. */
static struct lazy_lib tls_lib = { { "libgnutls.so.30", "libgnutls.so", NULL },
	"libgnutls30", NULL };
static struct lazy_lib rpc_lib = { { "libtirpc.so.3", "libtirpc.so", NULL },
	"libtirpc3", NULL };
#ifdef PDX_HAVE_NFTABLES
static struct lazy_lib nft_lib = {
	{ "libnftables.so.1", "libnftables.so", NULL }, "libnftables1", NULL
};
#endif
static struct lazy_lib xml_lib = { { "libxml2.so.2", "libxml2.so", NULL },
	"libxml2", NULL };

/* The address of sym in lib, loading it first; NULL with the error set. */
static void *
lazy_sym(struct lazy_lib *l, const char *sym)
{
	void *p;
	size_t i;

	for (i = 0; l->h == NULL && l->names[i] != NULL; i++)
		l->h = dlopen(l->names[i], RTLD_NOW | RTLD_LOCAL);
	if (l->h == NULL) {
		pdx_set_error("%s is not installed (Debian: %s)", l->names[0],
		    l->package);
		return NULL;
	}
	if ((p = dlsym(l->h, sym)) == NULL)
		pdx_set_error("%s has no %s", l->names[0], sym);
	return p;
}

/*
 * Loads "microhttpd" or "tirpc" now: a sandbox that will forbid opening
 * files later (serve's landlock) needs it done before it starts.
 */
int
pdx_lazy_load(const char *which)
{
	struct lazy_lib *l = strcmp(which, "microhttpd") == 0 ? &mhd_lib
	    : strcmp(which, "tirpc") == 0		      ? &rpc_lib
	    : strcmp(which, "libxml2") == 0		      ? &xml_lib
	    : strcmp(which, "gnutls") == 0		      ? &tls_lib
							      : NULL;

	if (l == NULL) {
		pdx_set_error("no lazily loaded library '%s'", which);
		return -1;
	}
	return lazy_sym(l,
		   l == &mhd_lib       ? "MHD_start_daemon_va"
		       : l == &rpc_lib ? "clnt_vc_create"
		       : l == &tls_lib ? "gnutls_strerror"
				       : "xmlTextReaderRead") != NULL
	    ? 0
	    : -1;
}

/* Declares fn_NAME, the resolved pointer, and fails with FAIL if absent. */
#define LAZY(lib, ret, name, params, FAIL) \
	static ret(*fn_##name) params; \
	if (fn_##name == NULL && \
	    (*(void **)&fn_##name = lazy_sym(&lib, #name)) == NULL) \
	return FAIL

/* ---- libmicrohttpd ---------------------------------------------------- */

HIDDEN struct MHD_Daemon *
MHD_start_daemon(unsigned int flags, uint16_t port,
    MHD_AcceptPolicyCallback apc, void *apc_cls, MHD_AccessHandlerCallback dh,
    void *dh_cls, ...)
{
	struct MHD_Daemon *d;
	va_list ap;

	LAZY(mhd_lib, struct MHD_Daemon *, MHD_start_daemon_va,
	    (unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
		MHD_AccessHandlerCallback, void *, va_list),
	    NULL);
	va_start(ap, dh_cls);
	d = fn_MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

HIDDEN void
MHD_stop_daemon(struct MHD_Daemon *d)
{
	LAZY(mhd_lib, void, MHD_stop_daemon, (struct MHD_Daemon *), );
	fn_MHD_stop_daemon(d);
}

HIDDEN MHD_socket
MHD_quiesce_daemon(struct MHD_Daemon *d)
{
	LAZY(mhd_lib, MHD_socket, MHD_quiesce_daemon, (struct MHD_Daemon *),
	    MHD_INVALID_SOCKET);
	return fn_MHD_quiesce_daemon(d);
}

/* Only info types without extra arguments are asked for (client address). */
HIDDEN const union MHD_ConnectionInfo *
MHD_get_connection_info(struct MHD_Connection *c, enum MHD_ConnectionInfoType t,
    ...)
{
	LAZY(mhd_lib, const union MHD_ConnectionInfo *, MHD_get_connection_info,
	    (struct MHD_Connection *, enum MHD_ConnectionInfoType, ...), NULL);
	return fn_MHD_get_connection_info(c, t);
}

HIDDEN const char *
MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind k,
    const char *key)
{
	LAZY(mhd_lib, const char *, MHD_lookup_connection_value,
	    (struct MHD_Connection *, enum MHD_ValueKind, const char *), NULL);
	return fn_MHD_lookup_connection_value(c, k, key);
}

HIDDEN struct MHD_Response *
MHD_create_response_from_buffer(size_t size, void *buf,
    enum MHD_ResponseMemoryMode mode)
{
	LAZY(mhd_lib, struct MHD_Response *, MHD_create_response_from_buffer,
	    (size_t, void *, enum MHD_ResponseMemoryMode), NULL);
	return fn_MHD_create_response_from_buffer(size, buf, mode);
}

HIDDEN enum MHD_Result
MHD_add_response_header(struct MHD_Response *r, const char *h, const char *v)
{
	LAZY(mhd_lib, enum MHD_Result, MHD_add_response_header,
	    (struct MHD_Response *, const char *, const char *), MHD_NO);
	return fn_MHD_add_response_header(r, h, v);
}

HIDDEN enum MHD_Result
MHD_queue_response(struct MHD_Connection *c, unsigned int status,
    struct MHD_Response *r)
{
	LAZY(mhd_lib, enum MHD_Result, MHD_queue_response,
	    (struct MHD_Connection *, unsigned int, struct MHD_Response *),
	    MHD_NO);
	return fn_MHD_queue_response(c, status, r);
}

HIDDEN void
MHD_destroy_response(struct MHD_Response *r)
{
	LAZY(mhd_lib, void, MHD_destroy_response, (struct MHD_Response *), );
	fn_MHD_destroy_response(r);
}

HIDDEN char *
MHD_basic_auth_get_username_password(struct MHD_Connection *c, char **password)
{
	LAZY(mhd_lib, char *, MHD_basic_auth_get_username_password,
	    (struct MHD_Connection *, char **), NULL);
	return fn_MHD_basic_auth_get_username_password(c, password);
}

HIDDEN void
MHD_free(void *p)
{
	LAZY(mhd_lib, void, MHD_free, (void *), );
	fn_MHD_free(p);
}

/* ---- GnuTLS (serve --web-config) -------------------------------------- */

HIDDEN const char *
gnutls_strerror(int error)
{
	LAZY(tls_lib, const char *, gnutls_strerror, (int),
	    "GnuTLS not available");
	return fn_gnutls_strerror(error);
}

HIDDEN int
gnutls_hmac_fast(gnutls_mac_algorithm_t alg, const void *key, size_t keylen,
    const void *text, size_t textlen, void *digest)
{
	LAZY(tls_lib, int, gnutls_hmac_fast,
	    (gnutls_mac_algorithm_t, const void *, size_t, const void *, size_t,
		void *),
	    GNUTLS_E_INTERNAL_ERROR);
	return fn_gnutls_hmac_fast(alg, key, keylen, text, textlen, digest);
}

HIDDEN int
gnutls_certificate_allocate_credentials(gnutls_certificate_credentials_t *c)
{
	LAZY(tls_lib, int, gnutls_certificate_allocate_credentials,
	    (gnutls_certificate_credentials_t *), GNUTLS_E_INTERNAL_ERROR);
	return fn_gnutls_certificate_allocate_credentials(c);
}

HIDDEN void
gnutls_certificate_free_credentials(gnutls_certificate_credentials_t c)
{
	LAZY(tls_lib, void, gnutls_certificate_free_credentials,
	    (gnutls_certificate_credentials_t), );
	fn_gnutls_certificate_free_credentials(c);
}

HIDDEN int
gnutls_certificate_set_x509_key_mem(gnutls_certificate_credentials_t c,
    const gnutls_datum_t *cert, const gnutls_datum_t *key,
    gnutls_x509_crt_fmt_t type)
{
	LAZY(tls_lib, int, gnutls_certificate_set_x509_key_mem,
	    (gnutls_certificate_credentials_t, const gnutls_datum_t *,
		const gnutls_datum_t *, gnutls_x509_crt_fmt_t),
	    GNUTLS_E_INTERNAL_ERROR);
	return fn_gnutls_certificate_set_x509_key_mem(c, cert, key, type);
}

HIDDEN int
gnutls_certificate_set_x509_trust_mem(gnutls_certificate_credentials_t c,
    const gnutls_datum_t *ca, gnutls_x509_crt_fmt_t type)
{
	LAZY(tls_lib, int, gnutls_certificate_set_x509_trust_mem,
	    (gnutls_certificate_credentials_t, const gnutls_datum_t *,
		gnutls_x509_crt_fmt_t),
	    GNUTLS_E_INTERNAL_ERROR);
	return fn_gnutls_certificate_set_x509_trust_mem(c, ca, type);
}

HIDDEN int
gnutls_priority_init(gnutls_priority_t *p, const char *prio,
    const char **err_pos)
{
	LAZY(tls_lib, int, gnutls_priority_init,
	    (gnutls_priority_t *, const char *, const char **),
	    GNUTLS_E_INTERNAL_ERROR);
	return fn_gnutls_priority_init(p, prio, err_pos);
}

HIDDEN void
gnutls_priority_deinit(gnutls_priority_t p)
{
	LAZY(tls_lib, void, gnutls_priority_deinit, (gnutls_priority_t), );
	fn_gnutls_priority_deinit(p);
}

HIDDEN const gnutls_datum_t *
gnutls_certificate_get_peers(gnutls_session_t s, unsigned int *n)
{
	LAZY(tls_lib, const gnutls_datum_t *, gnutls_certificate_get_peers,
	    (gnutls_session_t, unsigned int *), NULL);
	return fn_gnutls_certificate_get_peers(s, n);
}

HIDDEN int
gnutls_certificate_verify_peers2(gnutls_session_t s, unsigned int *status)
{
	LAZY(tls_lib, int, gnutls_certificate_verify_peers2,
	    (gnutls_session_t, unsigned int *), GNUTLS_E_INTERNAL_ERROR);
	return fn_gnutls_certificate_verify_peers2(s, status);
}

HIDDEN void
gnutls_certificate_server_set_request(gnutls_session_t s,
    gnutls_certificate_request_t req)
{
	LAZY(tls_lib, void, gnutls_certificate_server_set_request,
	    (gnutls_session_t, gnutls_certificate_request_t), );
	fn_gnutls_certificate_server_set_request(s, req);
}

/* ---- libtirpc ------------------------------------------------------- */

HIDDEN CLIENT *
clnt_vc_create(int fd, const struct netbuf *svcaddr, rpcprog_t prog,
    rpcvers_t vers, u_int sendsz, u_int recvsz)
{
	LAZY(rpc_lib, CLIENT *, clnt_vc_create,
	    (int, const struct netbuf *, rpcprog_t, rpcvers_t, u_int, u_int),
	    NULL);
	return fn_clnt_vc_create(fd, svcaddr, prog, vers, sendsz, recvsz);
}

HIDDEN CLIENT *
clnt_dg_create(int fd, const struct netbuf *svcaddr, rpcprog_t prog,
    rpcvers_t vers, u_int sendsz, u_int recvsz)
{
	LAZY(rpc_lib, CLIENT *, clnt_dg_create,
	    (int, const struct netbuf *, rpcprog_t, rpcvers_t, u_int, u_int),
	    NULL);
	return fn_clnt_dg_create(fd, svcaddr, prog, vers, sendsz, recvsz);
}

HIDDEN char *
clnt_sperrno(enum clnt_stat st)
{
	LAZY(rpc_lib, char *, clnt_sperrno, (enum clnt_stat),
	    (char *)"RPC library not available");
	return fn_clnt_sperrno(st);
}

HIDDEN void
xdrmem_create(XDR *x, char *addr, u_int size, enum xdr_op op)
{
	LAZY(rpc_lib, void, xdrmem_create,
	    (XDR *, char *, u_int, enum xdr_op), );
	fn_xdrmem_create(x, addr, size, op);
}

HIDDEN bool_t
xdr_u_int(XDR *x, u_int *p)
{
	LAZY(rpc_lib, bool_t, xdr_u_int, (XDR *, u_int *), FALSE);
	return fn_xdr_u_int(x, p);
}

HIDDEN bool_t
xdr_opaque(XDR *x, caddr_t p, u_int n)
{
	LAZY(rpc_lib, bool_t, xdr_opaque, (XDR *, caddr_t, u_int), FALSE);
	return fn_xdr_opaque(x, p, n);
}

/* ---- libnftables ------------------------------------------------------ */
#ifdef PDX_HAVE_NFTABLES

HIDDEN struct nft_ctx *
nft_ctx_new(uint32_t flags)
{
	LAZY(nft_lib, struct nft_ctx *, nft_ctx_new, (uint32_t), NULL);
	return fn_nft_ctx_new(flags);
}

HIDDEN void
nft_ctx_free(struct nft_ctx *ctx)
{
	LAZY(nft_lib, void, nft_ctx_free, (struct nft_ctx *), );
	fn_nft_ctx_free(ctx);
}

HIDDEN void
nft_ctx_output_set_flags(struct nft_ctx *ctx, unsigned int flags)
{
	LAZY(nft_lib, void, nft_ctx_output_set_flags,
	    (struct nft_ctx *, unsigned int), );
	fn_nft_ctx_output_set_flags(ctx, flags);
}

HIDDEN int
nft_ctx_buffer_output(struct nft_ctx *ctx)
{
	LAZY(nft_lib, int, nft_ctx_buffer_output, (struct nft_ctx *), -1);
	return fn_nft_ctx_buffer_output(ctx);
}

HIDDEN int
nft_ctx_buffer_error(struct nft_ctx *ctx)
{
	LAZY(nft_lib, int, nft_ctx_buffer_error, (struct nft_ctx *), -1);
	return fn_nft_ctx_buffer_error(ctx);
}

HIDDEN const char *
nft_ctx_get_output_buffer(struct nft_ctx *ctx)
{
	LAZY(nft_lib, const char *, nft_ctx_get_output_buffer,
	    (struct nft_ctx *), NULL);
	return fn_nft_ctx_get_output_buffer(ctx);
}

HIDDEN const char *
nft_ctx_get_error_buffer(struct nft_ctx *ctx)
{
	LAZY(nft_lib, const char *, nft_ctx_get_error_buffer,
	    (struct nft_ctx *), NULL);
	return fn_nft_ctx_get_error_buffer(ctx);
}

HIDDEN int
nft_run_cmd_from_buffer(struct nft_ctx *ctx, const char *buf)
{
	LAZY(nft_lib, int, nft_run_cmd_from_buffer,
	    (struct nft_ctx *, const char *), -1);
	return fn_nft_run_cmd_from_buffer(ctx, buf);
}

#endif /* PDX_HAVE_NFTABLES */
/* ---- libxml2: the streaming reader and the writer --------------------- */

HIDDEN xmlTextReaderPtr
xmlReaderForFd(int fd, const char *url, const char *enc, int options)
{
	LAZY(xml_lib, xmlTextReaderPtr, xmlReaderForFd,
	    (int, const char *, const char *, int), NULL);
	return fn_xmlReaderForFd(fd, url, enc, options);
}

HIDDEN xmlTextReaderPtr
xmlReaderForIO(xmlInputReadCallback ioread, xmlInputCloseCallback ioclose,
    void *ioctx, const char *url, const char *enc, int options)
{
	LAZY(xml_lib, xmlTextReaderPtr, xmlReaderForIO,
	    (xmlInputReadCallback, xmlInputCloseCallback, void *, const char *,
		const char *, int),
	    NULL);
	return fn_xmlReaderForIO(ioread, ioclose, ioctx, url, enc, options);
}

HIDDEN xmlTextReaderPtr
xmlReaderForMemory(const char *buf, int size, const char *url, const char *enc,
    int options)
{
	LAZY(xml_lib, xmlTextReaderPtr, xmlReaderForMemory,
	    (const char *, int, const char *, const char *, int), NULL);
	return fn_xmlReaderForMemory(buf, size, url, enc, options);
}

HIDDEN void
xmlFreeTextReader(xmlTextReaderPtr r)
{
	LAZY(xml_lib, void, xmlFreeTextReader, (xmlTextReaderPtr), );
	fn_xmlFreeTextReader(r);
}

HIDDEN void
xmlTextReaderSetStructuredErrorHandler(xmlTextReaderPtr r,
    xmlStructuredErrorFunc f, void *arg)
{
	LAZY(xml_lib, void, xmlTextReaderSetStructuredErrorHandler,
	    (xmlTextReaderPtr, xmlStructuredErrorFunc, void *), );
	fn_xmlTextReaderSetStructuredErrorHandler(r, f, arg);
}

HIDDEN xmlNodePtr
xmlTextReaderCurrentNode(xmlTextReaderPtr r)
{
	LAZY(xml_lib, xmlNodePtr, xmlTextReaderCurrentNode, (xmlTextReaderPtr),
	    NULL);
	return fn_xmlTextReaderCurrentNode(r);
}

HIDDEN const xmlChar *
xmlTextReaderConstLocalName(xmlTextReaderPtr r)
{
	LAZY(xml_lib, const xmlChar *, xmlTextReaderConstLocalName,
	    (xmlTextReaderPtr), NULL);
	return fn_xmlTextReaderConstLocalName(r);
}

HIDDEN const xmlChar *
xmlTextReaderConstValue(xmlTextReaderPtr r)
{
	LAZY(xml_lib, const xmlChar *, xmlTextReaderConstValue,
	    (xmlTextReaderPtr), NULL);
	return fn_xmlTextReaderConstValue(r);
}

/* The int-returning reader calls: -1 when libxml2 is missing. */
#define XML_READER_INT(name) \
	HIDDEN int name(xmlTextReaderPtr r) \
	{ \
		LAZY(xml_lib, int, name, (xmlTextReaderPtr), -1); \
		return fn_##name(r); \
	}
XML_READER_INT(xmlTextReaderRead)
XML_READER_INT(xmlTextReaderNodeType)
XML_READER_INT(xmlTextReaderDepth)
XML_READER_INT(xmlTextReaderIsEmptyElement)
XML_READER_INT(xmlTextReaderMoveToNextAttribute)
XML_READER_INT(xmlTextReaderMoveToElement)
XML_READER_INT(xmlTextReaderGetParserLineNumber)

HIDDEN xmlTextWriterPtr
xmlNewTextWriterFilename(const char *uri, int compression)
{
	LAZY(xml_lib, xmlTextWriterPtr, xmlNewTextWriterFilename,
	    (const char *, int), NULL);
	return fn_xmlNewTextWriterFilename(uri, compression);
}

HIDDEN void
xmlFreeTextWriter(xmlTextWriterPtr w)
{
	LAZY(xml_lib, void, xmlFreeTextWriter, (xmlTextWriterPtr), );
	fn_xmlFreeTextWriter(w);
}

HIDDEN int
xmlTextWriterSetIndent(xmlTextWriterPtr w, int indent)
{
	LAZY(xml_lib, int, xmlTextWriterSetIndent, (xmlTextWriterPtr, int), -1);
	return fn_xmlTextWriterSetIndent(w, indent);
}

HIDDEN int
xmlTextWriterStartDocument(xmlTextWriterPtr w, const char *version,
    const char *enc, const char *standalone)
{
	LAZY(xml_lib, int, xmlTextWriterStartDocument,
	    (xmlTextWriterPtr, const char *, const char *, const char *), -1);
	return fn_xmlTextWriterStartDocument(w, version, enc, standalone);
}

HIDDEN int
xmlTextWriterWriteDTD(xmlTextWriterPtr w, const xmlChar *name,
    const xmlChar *pubid, const xmlChar *sysid, const xmlChar *subset)
{
	LAZY(xml_lib, int, xmlTextWriterWriteDTD,
	    (xmlTextWriterPtr, const xmlChar *, const xmlChar *,
		const xmlChar *, const xmlChar *),
	    -1);
	return fn_xmlTextWriterWriteDTD(w, name, pubid, sysid, subset);
}

HIDDEN int
xmlTextWriterStartElement(xmlTextWriterPtr w, const xmlChar *name)
{
	LAZY(xml_lib, int, xmlTextWriterStartElement,
	    (xmlTextWriterPtr, const xmlChar *), -1);
	return fn_xmlTextWriterStartElement(w, name);
}

HIDDEN int
xmlTextWriterWriteAttribute(xmlTextWriterPtr w, const xmlChar *name,
    const xmlChar *content)
{
	LAZY(xml_lib, int, xmlTextWriterWriteAttribute,
	    (xmlTextWriterPtr, const xmlChar *, const xmlChar *), -1);
	return fn_xmlTextWriterWriteAttribute(w, name, content);
}

HIDDEN int
xmlTextWriterEndElement(xmlTextWriterPtr w)
{
	LAZY(xml_lib, int, xmlTextWriterEndElement, (xmlTextWriterPtr), -1);
	return fn_xmlTextWriterEndElement(w);
}

HIDDEN int
xmlTextWriterEndDocument(xmlTextWriterPtr w)
{
	LAZY(xml_lib, int, xmlTextWriterEndDocument, (xmlTextWriterPtr), -1);
	return fn_xmlTextWriterEndDocument(w);
}

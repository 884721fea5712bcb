#ifndef WSGATE_COPENSSL_SHIM_H
#define WSGATE_COPENSSL_SHIM_H
// Swift cannot import function-like macros; each one we use is wrapped here, nothing else.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

static inline void gw_BIO_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
static inline void gw_BIO_clear_retry_flags(BIO *bio) { BIO_clear_retry_flags(bio); }
static inline long gw_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline long gw_SSL_CTX_set_options(SSL_CTX *ctx, long options) { return SSL_CTX_set_options(ctx, options); }
static inline int gw_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int v) { return SSL_CTX_set_min_proto_version(ctx, v); }
static inline int gw_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int v) { return SSL_CTX_set_max_proto_version(ctx, v); }
static inline long gw_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *)) {
    return SSL_CTX_set_tlsext_servername_callback(ctx, cb);
}
static inline long gw_SSL_CTX_set_tlsext_servername_arg(SSL_CTX *ctx, void *arg) {
    return SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}
static inline long gw_SSL_set_tlsext_host_name(SSL *ssl, const char *name) { return SSL_set_tlsext_host_name(ssl, name); }
static inline size_t gw_BIO_ctrl_pending(BIO *bio) { return BIO_ctrl_pending(bio); }
static inline int gw_BIO_pending(BIO *bio) { return (int)BIO_pending(bio); }

static inline long gw_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline int gw_SSL_CTX_get_ex_new_index(CRYPTO_EX_free *free_func) {
    return SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_func);
}
static inline int gw_SSL_get_ex_new_index(void) { return SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL); }

static inline uint64_t gw_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
static inline uint64_t gw_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline int gw_SSL_FILETYPE_PEM(void) { return SSL_FILETYPE_PEM; }

#endif

#ifndef TCBUILD_CCRYPTO_SHIM_H
#define TCBUILD_CCRYPTO_SHIM_H
// OpenSSL libcrypto (Debian libssl-dev, already required by librabbitmq-dev): SHA-256 only.
#include <openssl/evp.h>

// One-shot SHA-256 through the EVP interface (SHA256() is deprecated in OpenSSL 3). Returns 1 on success.
static inline int tcb_sha256(const void *data, size_t len, unsigned char out[32]) {
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

// Streaming SHA-256 (for files): new, update, final (frees the context).
static inline EVP_MD_CTX *tcb_sha256_new(void) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) { EVP_MD_CTX_free(ctx); return NULL; }
    return ctx;
}
static inline int tcb_sha256_update(EVP_MD_CTX *ctx, const void *data, size_t len) {
    return EVP_DigestUpdate(ctx, data, len);
}
static inline int tcb_sha256_final(EVP_MD_CTX *ctx, unsigned char out[32]) {
    unsigned int n = 0;
    int ok = EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == 32;
    EVP_MD_CTX_free(ctx);
    return ok;
}
#endif

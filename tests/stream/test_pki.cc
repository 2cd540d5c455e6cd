#include "tests/stream/test_pki.h"

#include <cstdlib>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace sipedge::stream::testing {

namespace {

EVP_PKEY* new_key() {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    if (k == nullptr) std::abort();
    return k;
}

std::string to_pem(X509* x) {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char* p = nullptr;
    const long n = BIO_get_mem_data(b, &p);
    std::string s(p, size_t(n));
    BIO_free(b);
    return s;
}

std::string to_pem(EVP_PKEY* k) {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
    char* p = nullptr;
    const long n = BIO_get_mem_data(b, &p);
    std::string s(p, size_t(n));
    BIO_free(b);
    return s;
}

void add_ext(X509* issuer, X509* x, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (e == nullptr) std::abort();
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

X509* new_cert(const std::string& cn, EVP_PKEY* key, long serial) {
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()),
                               -1, -1, 0);
    return x;
}

}  // namespace

TestPki::TestPki(const std::string& cn) {
    key_ = new_key();
    cert_ = new_cert(cn, key_, 1);
    X509_set_issuer_name(cert_, X509_get_subject_name(cert_));
    add_ext(cert_, cert_, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert_, cert_, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(cert_, cert_, NID_subject_key_identifier, "hash");
    if (X509_sign(cert_, key_, EVP_sha256()) == 0) std::abort();
    ca_pem_ = to_pem(cert_);
}

TestPki::~TestPki() {
    X509_free(cert_);
    EVP_PKEY_free(key_);
}

Pem TestPki::issue(const std::string& cn, const std::vector<std::string>& dns,
                   const std::vector<std::string>& ips) const {
    static long serial = 100;
    EVP_PKEY* k = new_key();
    X509* x = new_cert(cn, k, ++serial);
    X509_set_issuer_name(x, X509_get_subject_name(cert_));
    add_ext(cert_, x, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert_, x, NID_ext_key_usage, "serverAuth,clientAuth");
    add_ext(cert_, x, NID_authority_key_identifier, "keyid");
    std::string san;
    auto add = [&san](const char* kind, const std::string& v) {
        if (!san.empty()) san += ',';
        san += kind;
        san += v;
    };
    for (const std::string& d : dns) add("DNS:", d);
    for (const std::string& i : ips) add("IP:", i);
    if (!san.empty()) add_ext(cert_, x, NID_subject_alt_name, san);
    if (X509_sign(x, key_, EVP_sha256()) == 0) std::abort();
    Pem p{to_pem(x), to_pem(k)};
    X509_free(x);
    EVP_PKEY_free(k);
    return p;
}

}  // namespace sipedge::stream::testing

#pragma once
// A throw-away PKI for the TLS tests and the bench, made with OpenSSL's API
// in memory (no files, no openssl CLI): a CA and leaf certificates it signs,
// all P-256, valid from an hour ago for a day.

#include <string>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

namespace sipedge::stream::testing {

struct Pem {
    std::string cert;
    std::string key;
};

class TestPki {
public:
    /// A new self-signed CA named <cn>.
    explicit TestPki(const std::string& cn = "sipedge test CA");
    ~TestPki();
    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;

    /// The CA certificate (PEM), for a profile's ca_pem.
    const std::string& ca_pem() const { return ca_pem_; }
    /// A leaf for <cn> with subjectAltName dNSNames <dns> (and iPAddress
    /// entries for <ips>), signed by this CA.
    Pem issue(const std::string& cn, const std::vector<std::string>& dns,
              const std::vector<std::string>& ips = {}) const;

private:
    EVP_PKEY* key_ = nullptr;
    X509* cert_ = nullptr;
    std::string ca_pem_;
};

}  // namespace sipedge::stream::testing

#pragma once
// TLS for the stream transport, on OpenSSL (Debian libssl-dev, 3.0):
// contexts for carrier-facing client profiles and access-facing listeners,
// RFC 5922 server identity checks, readable verification failures, and the
// client session cache that lets a reconnect resume (RFC 5077 tickets /
// TLS 1.3 PSK). Control-side construction (profiles are built on the thread
// that configures them, and may load files); everything else runs on the
// stream thread.
//
// Policy (issue 14): TLS 1.2 and 1.3 only; OpenSSL's default cipher lists and
// security level; the server certificate is always verified against the
// profile's CA bundle and against the profile's server name, which is the SIP
// domain of the carrier (RFC 5922 §4: the domain of the URI, not the SRV
// target or address), sent as SNI and matched against subjectAltName dNSName
// (CN only without SANs) with no wildcards (RFC 5922 §7.2). Private keys are
// never printed: error texts name the profile and OpenSSL's reason only.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/result.h"
#include "stream/stream_types.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

namespace sipedge::stream {

/// A carrier-facing (outbound) TLS profile: what to trust, whom to expect,
/// and optionally which client certificate to present (per trunk).
/// Each PEM item is given as a file path or as text (the secrets store hands
/// keys over as text; it is parsed in place, never copied or logged).
struct TlsClientConfig {
    std::string server_name{};   // required: the SIP domain (SNI + RFC 5922 match); an IP literal matches iPAddress SANs
    std::string ca_file{};       // CA bundle (PEM) …
    std::string ca_pem{};        // … or its text
    std::string cert_file{};     // optional client certificate chain (PEM)
    std::string cert_pem{};
    std::string key_file{};      // its private key
    std::string key_pem{};
};

/// An access-facing (inbound) TLS listener's identity.
struct TlsServerConfig {
    std::string cert_file{};     // certificate chain (PEM)
    std::string cert_pem{};
    std::string key_file{};      // private key
    std::string key_pem{};
    std::string ca_file{};       // with verify_client: CAs client certificates must chain to
    std::string ca_pem{};
    bool verify_client = false;
};

/// One SSL_CTX and what a connection needs besides it. Immutable once built;
/// shared by the stream thread's connections through shared_ptr.
class TlsContext {
public:
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    /// Builds a client context; refuses a missing server name, an unreadable
    /// CA bundle, or a client certificate without its key (or not matching it).
    static Result<std::shared_ptr<const TlsContext>> client(const TlsClientConfig& c);
    /// Builds a server context; refuses a missing or mismatched certificate/key.
    static Result<std::shared_ptr<const TlsContext>> server(const TlsServerConfig& c);

    SSL_CTX* ctx() const noexcept { return ctx_; }
    const std::string& server_name() const noexcept { return server_name_; }
    bool is_client() const noexcept { return client_; }
    /// Unique per context built in this process (session cache entries of a
    /// replaced profile are never offered with its successor).
    uint64_t serial() const noexcept { return serial_; }

private:
    TlsContext() = default;
    SSL_CTX* ctx_ = nullptr;
    uint64_t serial_ = 0;
    std::string server_name_{};
    bool client_ = false;
};

/// What the verify callback saw on one connection (the reason text needs the
/// certificate's names, which OpenSSL no longer offers after a failed handshake).
struct TlsVerifyNote {
    long error = 0;             // X509_V_ERR_* of the first failure; 0 = none
    int depth = 0;
    std::string subject_names{};  // the failing certificate's SAN dNSNames / CN, comma-separated
};

class TlsSessionCache;

/// Per-connection TLS state reachable from OpenSSL callbacks (SSL ex_data).
struct TlsLink {
    TlsVerifyNote note;
    TlsSessionCache* cache = nullptr;  // client: where new sessions go
    PeerAddr peer;
    uint32_t profile = 0;
    const TlsContext* tls = nullptr;
};

/// Creates the SSL for a new connection on <fd>: client side with SNI, the
/// RFC 5922 name check and a cached session when one is held for
/// (peer, profile); server side otherwise. <link> must outlive the SSL.
/// nullptr on failure (out of memory).
SSL* tls_new(const TlsContext& tls, int fd, TlsLink* link, SSL_SESSION* resume) noexcept;

/// Text for a handshake that failed on <ssl>, e.g. "certificate name mismatch:
/// expected carrier.example, got other.example" or "TLS handshake failed:
/// ... wrong version number". Sets <verify_failed> when the certificate was
/// refused (as opposed to a protocol failure). Drains OpenSSL's error queue.
std::string tls_failure_text(SSL* ssl, const TlsLink& link, const std::string& expected,
                             bool& verify_failed);

/// OpenSSL's error queue as one line (drained); "" when empty.
std::string tls_error_queue();

/// Client sessions per (server address, profile), for resumption after a
/// reconnect. Stream thread only. Holds one reference per entry.
class TlsSessionCache {
public:
    TlsSessionCache() = default;
    ~TlsSessionCache();
    TlsSessionCache(const TlsSessionCache&) = delete;
    TlsSessionCache& operator=(const TlsSessionCache&) = delete;

    /// The session to offer to <peer> with <profile>, or nullptr.
    SSL_SESSION* get(const PeerAddr& peer, uint32_t profile, const TlsContext* tls) const noexcept;
    /// Keeps <s> (takes the caller's reference), replacing an older one.
    void put(const PeerAddr& peer, uint32_t profile, const TlsContext* tls, SSL_SESSION* s) noexcept;
    /// Forgets the session of (peer, profile): after a failed resumption.
    void drop(const PeerAddr& peer, uint32_t profile) noexcept;
    size_t size() const noexcept { return map_.size(); }

private:
    struct Key {
        PeerAddr peer;
        uint32_t profile;
        bool operator<(const Key& o) const noexcept;
    };
    struct Entry {
        SSL_SESSION* s = nullptr;
        uint64_t serial = 0;  // TlsContext::serial() it was made with
    };
    std::map<Key, Entry> map_;
};

}  // namespace sipedge::stream

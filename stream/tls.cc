#include "stream/tls.h"

#include <arpa/inet.h>
#include <atomic>
#include <cstring>
#include <mutex>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace sipedge::stream {

namespace {

std::atomic<uint64_t> next_serial{1};

// SSL ex_data slot holding the connection's TlsLink (created once).
int link_index() {
    static const int idx = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return idx;
}

TlsLink* link_of(SSL* ssl) noexcept {
    return static_cast<TlsLink*>(SSL_get_ex_data(ssl, link_index()));
}

// "a.example, b.example" from <x>'s subjectAltName dNSName/iPAddress entries,
// or its CN when it has none: what the certificate claims to be.
std::string cert_names(X509* x) {
    std::string out;
    auto add = [&](const std::string& s) {
        if (!out.empty()) out += ", ";
        out += s;
    };
    if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr))) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans) && i < 8; i++) {
            const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
            if (g->type == GEN_DNS || g->type == GEN_URI) {
                const ASN1_IA5STRING* s = g->type == GEN_DNS ? g->d.dNSName : g->d.uniformResourceIdentifier;
                add(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                size_t(ASN1_STRING_length(s))));
            } else if (g->type == GEN_IPADD) {
                const ASN1_OCTET_STRING* s = g->d.iPAddress;
                char buf[INET6_ADDRSTRLEN] = "?";
                const int n = ASN1_STRING_length(s);
                if (n == 4 || n == 16)
                    inet_ntop(n == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), buf, sizeof buf);
                add(buf);
            }
        }
        GENERAL_NAMES_free(sans);
    }
    if (out.empty()) {
        char cn[256] = "";
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) > 0)
            out = cn;
        else
            out = "(no name)";
    }
    return out;
}

// Records the first failure of the chain for tls_failure_text(); the
// handshake still fails (we return what OpenSSL decided).
int verify_cb(int ok, X509_STORE_CTX* store) {
    if (ok) return ok;
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    TlsLink* link = ssl ? link_of(ssl) : nullptr;
    if (link && link->note.error == 0) {
        link->note.error = X509_STORE_CTX_get_error(store);
        link->note.depth = X509_STORE_CTX_get_error_depth(store);
        if (X509* x = X509_STORE_CTX_get_current_cert(store)) link->note.subject_names = cert_names(x);
    }
    return ok;
}

// New client session (TLS 1.2 at the end of the handshake, TLS 1.3 when a
// ticket arrives afterwards): keep it for the next connection to this server.
int new_session_cb(SSL* ssl, SSL_SESSION* s) {
    TlsLink* link = link_of(ssl);
    if (link == nullptr || link->cache == nullptr || link->tls == nullptr) return 0;
    // A copy: OpenSSL marks the connection's own session not resumable when
    // that connection dies without close_notify (a carrier restart), which is
    // exactly when the cached one is needed.
    if (SSL_SESSION* copy = SSL_SESSION_dup(s)) link->cache->put(link->peer, link->profile, link->tls, copy);
    return 0;  // OpenSSL keeps its reference
}

SSL_CTX* new_ctx(bool client) {
    SSL_CTX* ctx = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
    if (ctx == nullptr) return nullptr;
    // issue 14: TLS 1.2 and 1.3 only; OpenSSL's default ciphers and security level.
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    // Partial writes and a moving buffer: the stream thread writes from its
    // per-connection queue, which may grow between retries. Release buffers:
    // an idle connection keeps no 16 KB record buffers (memory per idle
    // connection, bench/stream).
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    return ctx;
}

Error ssl_err(const std::string& what) {
    std::string q = tls_error_queue();
    return err(EINVAL, q.empty() ? what : what + ": " + q);
}

// Loads a PEM item from <file> or <pem>; <what> names it in errors. The
// callback does the SSL_CTX_* call for the file or for the parsed BIO.
bool load_cas(SSL_CTX* ctx, const std::string& file, const std::string& pem, std::string& why) {
    if (!file.empty()) {
        if (SSL_CTX_load_verify_locations(ctx, file.c_str(), nullptr) != 1) {
            why = "CA bundle " + file + ": cannot load: " + tls_error_queue();
            return false;
        }
        return true;
    }
    BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
    if (bio == nullptr) {
        why = "CA bundle: out of memory";
        return false;
    }
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int n = 0;
    while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(store, x);
        X509_free(x);
        n++;
    }
    BIO_free(bio);
    ERR_clear_error();  // the read that ended the loop left "no start line"
    if (n == 0) {
        why = "CA bundle: no certificate in the PEM text";
        return false;
    }
    return true;
}

bool load_cert_key(SSL_CTX* ctx, const std::string& cert_file, const std::string& cert_pem,
                   const std::string& key_file, const std::string& key_pem, std::string& why) {
    if (!cert_file.empty()) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
            why = "certificate " + cert_file + ": cannot load: " + tls_error_queue();
            return false;
        }
    } else {
        BIO* bio = BIO_new_mem_buf(cert_pem.data(), int(cert_pem.size()));
        X509* leaf = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
        if (leaf == nullptr || SSL_CTX_use_certificate(ctx, leaf) != 1) {
            X509_free(leaf);
            BIO_free(bio);
            why = "certificate: cannot load the PEM text: " + tls_error_queue();
            return false;
        }
        X509_free(leaf);
        while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr))
            if (SSL_CTX_add0_chain_cert(ctx, x) != 1) X509_free(x);
        BIO_free(bio);
        ERR_clear_error();
    }
    // The key: never echoed. Only OpenSSL's reason (which holds no key bytes)
    // goes into the error.
    BIO* bio = key_file.empty() ? BIO_new_mem_buf(key_pem.data(), int(key_pem.size()))
                                : BIO_new_file(key_file.c_str(), "r");
    EVP_PKEY* k = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    const std::string which = key_file.empty() ? std::string("private key") : "private key " + key_file;
    if (k == nullptr) {
        why = which + ": cannot load: " + tls_error_queue();
        return false;
    }
    if (SSL_CTX_use_PrivateKey(ctx, k) != 1) {
        EVP_PKEY_free(k);
        why = which + " does not match the certificate (" + tls_error_queue() + ")";
        return false;
    }
    EVP_PKEY_free(k);
    if (SSL_CTX_check_private_key(ctx) != 1) {
        why = "private key does not match the certificate";
        ERR_clear_error();
        return false;
    }
    return true;
}

}  // namespace

std::string tls_error_queue() {
    std::string out;
    char buf[256];
    while (unsigned long e = ERR_get_error()) {
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Result<std::shared_ptr<const TlsContext>> TlsContext::client(const TlsClientConfig& c) {
    if (c.server_name.empty())
        return err(EINVAL, "TLS client profile: server name required (RFC 5922: the carrier's SIP domain)");
    if (c.ca_file.empty() && c.ca_pem.empty())
        return err(EINVAL, "TLS client profile: CA bundle required (the server certificate is always verified)");
    const bool has_cert = !c.cert_file.empty() || !c.cert_pem.empty();
    const bool has_key = !c.key_file.empty() || !c.key_pem.empty();
    if (has_cert != has_key)
        return err(EINVAL, "TLS client profile: a client certificate needs its key and the key its certificate");
    std::shared_ptr<TlsContext> t(new TlsContext());
    t->client_ = true;
    t->server_name_ = c.server_name;
    t->serial_ = next_serial.fetch_add(1, std::memory_order_relaxed);
    t->ctx_ = new_ctx(true);
    if (t->ctx_ == nullptr) return ssl_err("TLS client profile: SSL_CTX_new");
    std::string why;
    if (!load_cas(t->ctx_, c.ca_file, c.ca_pem, why)) return err(EINVAL, "TLS client profile: " + why);
    if (has_cert && !load_cert_key(t->ctx_, c.cert_file, c.cert_pem, c.key_file, c.key_pem, why))
        return err(EINVAL, "TLS client profile: client " + why);
    SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_PEER, verify_cb);
    // Client-side cache only through our callback (per server, TlsSessionCache).
    SSL_CTX_set_session_cache_mode(t->ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(t->ctx_, new_session_cb);
    return std::shared_ptr<const TlsContext>(std::move(t));
}

Result<std::shared_ptr<const TlsContext>> TlsContext::server(const TlsServerConfig& c) {
    if ((c.cert_file.empty() && c.cert_pem.empty()) || (c.key_file.empty() && c.key_pem.empty()))
        return err(EINVAL, "TLS server profile: certificate and private key required");
    std::shared_ptr<TlsContext> t(new TlsContext());
    t->serial_ = next_serial.fetch_add(1, std::memory_order_relaxed);
    t->ctx_ = new_ctx(false);
    if (t->ctx_ == nullptr) return ssl_err("TLS server profile: SSL_CTX_new");
    std::string why;
    if (!load_cert_key(t->ctx_, c.cert_file, c.cert_pem, c.key_file, c.key_pem, why))
        return err(EINVAL, "TLS server profile: " + why);
    if (c.verify_client) {
        if (!load_cas(t->ctx_, c.ca_file, c.ca_pem, why)) return err(EINVAL, "TLS server profile: " + why);
        SSL_CTX_set_verify(t->ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    }
    // Server-side resumption (session ids for TLS 1.2, tickets for both).
    static const unsigned char sid_ctx[] = "sipedge-stream";
    SSL_CTX_set_session_id_context(t->ctx_, sid_ctx, sizeof sid_ctx - 1);
    return std::shared_ptr<const TlsContext>(std::move(t));
}

SSL* tls_new(const TlsContext& tls, int fd, TlsLink* link, SSL_SESSION* resume) noexcept {
    SSL* ssl = SSL_new(tls.ctx());
    if (ssl == nullptr) return nullptr;
    if (SSL_set_fd(ssl, fd) != 1 || SSL_set_ex_data(ssl, link_index(), link) != 1) {
        SSL_free(ssl);
        return nullptr;
    }
    if (!tls.is_client()) {
        SSL_set_accept_state(ssl);
        return ssl;
    }
    SSL_set_connect_state(ssl);
    const std::string& name = tls.server_name();
    unsigned char ip[16];
    const bool is_ip = inet_pton(AF_INET, name.c_str(), ip) == 1 || inet_pton(AF_INET6, name.c_str(), ip) == 1;
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (is_ip) {
        // RFC 6066 §3: no SNI for an address; the certificate must carry it as iPAddress.
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
        SSL_set_tlsext_host_name(ssl, name.c_str());
        // RFC 5922 §7.2: exact domain match, no wildcards.
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    }
    if (resume) SSL_set_session(ssl, resume);
    return ssl;
}

std::string tls_failure_text(SSL* ssl, const TlsLink& link, const std::string& expected,
                             bool& verify_failed) {
    long e = link.note.error;
    if (e == 0 && ssl) {
        const long r = SSL_get_verify_result(ssl);
        if (r != X509_V_OK) e = r;
    }
    std::string queue = tls_error_queue();
    verify_failed = e != 0;
    if (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH)
        return "certificate name mismatch: expected " + expected + ", got " +
               (link.note.subject_names.empty() ? std::string("(unknown)") : link.note.subject_names);
    if (e != 0) {
        std::string s = "certificate verify failed: ";
        s += X509_verify_cert_error_string(e);
        s += " (depth " + std::to_string(link.note.depth);
        if (!link.note.subject_names.empty()) s += ", " + link.note.subject_names;
        s += ")";
        return s;
    }
    if (queue.empty()) return "TLS handshake failed: the peer closed the connection";
    return "TLS handshake failed: " + queue;
}

// ---- session cache -----------------------------------------------------------

bool TlsSessionCache::Key::operator<(const Key& o) const noexcept {
    if (profile != o.profile) return profile < o.profile;
    if (peer.family != o.peer.family) return peer.family < o.peer.family;
    if (peer.port != o.peer.port) return peer.port < o.peer.port;
    return std::memcmp(peer.addr, o.peer.addr, sizeof peer.addr) < 0;
}

TlsSessionCache::~TlsSessionCache() {
    for (auto& [k, e] : map_) SSL_SESSION_free(e.s);
}

SSL_SESSION* TlsSessionCache::get(const PeerAddr& peer, uint32_t profile, const TlsContext* tls) const noexcept {
    const auto it = map_.find(Key{peer, profile});
    if (it == map_.end() || tls == nullptr || it->second.serial != tls->serial()) return nullptr;
    return SSL_SESSION_is_resumable(it->second.s) ? it->second.s : nullptr;
}

void TlsSessionCache::put(const PeerAddr& peer, uint32_t profile, const TlsContext* tls, SSL_SESSION* s) noexcept {
    Entry& e = map_[Key{peer, profile}];
    if (e.s) SSL_SESSION_free(e.s);
    e.s = s;
    e.serial = tls ? tls->serial() : 0;
}

void TlsSessionCache::drop(const PeerAddr& peer, uint32_t profile) noexcept {
    const auto it = map_.find(Key{peer, profile});
    if (it == map_.end()) return;
    SSL_SESSION_free(it->second.s);
    map_.erase(it);
}

}  // namespace sipedge::stream

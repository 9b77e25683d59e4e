#include "squall/iostream/tls.hpp"

#include "squall/iostream/block_pool.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>

namespace squall {
namespace {

// Every OpenSSL error queued since the last ERR_clear_error, as "reason; reason" (most useful first).
std::string drain_error_queue() {
    std::string text;
    while (unsigned long e = ERR_get_error()) {
        const char* reason = ERR_reason_error_string(e);
        std::string piece;
        if (reason != nullptr) {
            piece = reason;
        } else {
            char buf[256];
            ERR_error_string_n(e, buf, sizeof buf);
            piece = buf;
        }
        // Alerts from the peer surface as reasons like "tlsv13 alert certificate required".
        if (piece.find("alert") != std::string::npos) piece = "peer sent alert: " + piece;
        if (!text.empty()) text += "; ";
        text += piece;
    }
    return text;
}

bool is_unexpected_eof(unsigned long e) {
    return ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

int to_openssl_version(TlsVersion v) {
    return v == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// "[::1]" → "::1"; true if the name is an IPv4 or IPv6 literal.
bool parse_ip_literal(std::string_view host, std::string& out) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    out.assign(host);
    unsigned char addr[16];
    return inet_pton(AF_INET, out.c_str(), addr) == 1 || inet_pton(AF_INET6, out.c_str(), addr) == 1;
}

std::string file_error(const char* what, const std::string& file) {
    std::string reason = drain_error_queue();
    return std::string("TLS: cannot load ") + what + " from " + file + (reason.empty() ? "" : ": " + reason);
}

std::string alpn_wire_format(const std::vector<std::string>& protocols) {
    std::string wire;
    for (const auto& p : protocols) {
        if (p.empty() || p.size() > 255) throw TlsError("TLS: invalid ALPN protocol name \"" + p + "\"");
        wire.push_back(static_cast<char>(p.size()));
        wire += p;
    }
    return wire;
}

// Loads the certificate chain and its private key into ctx; role is "client" or "server" for messages.
void load_certificate_and_key(SSL_CTX* ctx, const std::string& cert, const std::string& key,
                              const char* role) {
    const std::string what = std::string(role) + " certificate";
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
        throw TlsError(file_error(what.c_str(), cert));
    const unsigned long before = ERR_peek_last_error();
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        const unsigned long e = ERR_peek_last_error();
        if (e != before && ERR_GET_LIB(e) == ERR_LIB_X509 &&
            ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            throw TlsError("TLS: " + std::string(role) + " key " + key + " does not match certificate " +
                           cert);
        }
        throw TlsError(file_error((std::string(role) + " private key").c_str(), key));
    }
}

// ---------------------------------------------------------------------------------------------------------
// A BIO over the engine's two Buffers: OpenSSL reads records from `in` and appends records to `out`, so
// ciphertext is copied once on each side (socket ↔ Buffer) and never through an intermediate memory BIO.

struct BufferBioState {
    Buffer* in;
    Buffer* out;
    bool* eof;
};

int bio_write_ex(BIO* bio, const char* data, size_t len, size_t* written) {
    auto* st = static_cast<BufferBioState*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    if (len > 0) {
        // An idle engine gave its buffer back (release_buffers): take a pooled one, not a new one.
        if (st->out->capacity() == 0 && len <= Buffer::kMinCapacity)
            st->out->take_storage(Buffer::kMinCapacity);
        st->out->append(std::string_view(data, len));
    }
    *written = len;
    return 1;
}

int bio_read_ex(BIO* bio, char* data, size_t len, size_t* read) {
    auto* st = static_cast<BufferBioState*>(BIO_get_data(bio));
    BIO_clear_retry_flags(bio);
    *read = 0;
    if (st->in->empty()) {
        // At EOF report a plain 0 (OpenSSL turns it into "unexpected eof" unless close_notify came first);
        // otherwise ask to be called again once more ciphertext is fed.
        if (!*st->eof) BIO_set_retry_read(bio);
        return 0;
    }
    const size_t n = std::min(len, st->in->size());
    std::memcpy(data, st->in->data(), n);
    st->in->consume(n);
    *read = n;
    return 1;
}

long bio_ctrl(BIO* bio, int cmd, long, void*) {
    auto* st = static_cast<BufferBioState*>(BIO_get_data(bio));
    switch (cmd) {
        case BIO_CTRL_FLUSH:
            return 1;
        case BIO_CTRL_PENDING:
            return static_cast<long>(st->in->size());
        case BIO_CTRL_WPENDING:
            return static_cast<long>(st->out->size());
        case BIO_CTRL_EOF:
            return *st->eof && st->in->empty() ? 1 : 0;
        default:
            return 0;
    }
}

int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

const BIO_METHOD* buffer_bio_method() {
    // Created once per process and kept for its lifetime (thread-safe static initialization).
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "squall buffer");
        if (m == nullptr) throw TlsError("TLS: BIO_meth_new failed");
        BIO_meth_set_write_ex(m, bio_write_ex);
        BIO_meth_set_read_ex(m, bio_read_ex);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        return m;
    }();
    return method;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// TlsContext

TlsContext::TlsContext(Key, bool server) : server_(server) {
    ctx_ = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx_ == nullptr) throw TlsError("TLS: SSL_CTX_new failed: " + drain_error_queue());
}

TlsContext::~TlsContext() {
    SSL_CTX_free(ctx_);
}

std::shared_ptr<TlsContext> TlsContext::client(const TlsClientOptions& options) {
    ERR_clear_error();
    auto self = std::make_shared<TlsContext>(Key{}, false);
    SSL_CTX* ctx = self->ctx_;
    SSL_CTX_set_min_proto_version(ctx, to_openssl_version(options.min_version));
    self->verify_peer_ = options.verify_peer;
    self->check_hostname_ = options.verify_peer && options.check_hostname;
    if (options.verify_peer) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        if (!options.ca_file.empty() || !options.ca_path.empty()) {
            const char* file = options.ca_file.empty() ? nullptr : options.ca_file.c_str();
            const char* path = options.ca_path.empty() ? nullptr : options.ca_path.c_str();
            if (SSL_CTX_load_verify_locations(ctx, file, path) != 1) {
                throw TlsError(file_error("CA certificates", file ? options.ca_file : options.ca_path));
            }
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            throw TlsError("TLS: cannot load the system CA store: " + drain_error_queue());
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    if (!options.cert_file.empty()) {
        const std::string& key = options.key_file.empty() ? options.cert_file : options.key_file;
        load_certificate_and_key(ctx, options.cert_file, key, "client");
    }
    if (!options.alpn.empty()) self->set_alpn_protocols(options.alpn);
    return self;
}

std::shared_ptr<TlsContext> TlsContext::server(const TlsServerOptions& options) {
    ERR_clear_error();
    if (options.cert_file.empty()) throw UsageError("TlsContext::server needs a cert_file");
    auto self = std::make_shared<TlsContext>(Key{}, true);
    SSL_CTX* ctx = self->ctx_;
    SSL_CTX_set_min_proto_version(ctx, to_openssl_version(options.min_version));
    const std::string& key = options.key_file.empty() ? options.cert_file : options.key_file;
    load_certificate_and_key(ctx, options.cert_file, key, "server");
    if (options.client_cert != ClientCertMode::none) {
        if (options.client_ca_file.empty()) {
            throw UsageError("TlsContext::server: client certificates need a client_ca_file");
        }
        if (SSL_CTX_load_verify_locations(ctx, options.client_ca_file.c_str(), nullptr) != 1) {
            throw TlsError(file_error("client CA certificates", options.client_ca_file));
        }
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str());
        if (names == nullptr) throw TlsError(file_error("client CA names", options.client_ca_file));
        SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
        int mode = SSL_VERIFY_PEER;
        if (options.client_cert == ClientCertMode::required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ctx, mode, nullptr);
        self->verify_peer_ = true;
        // Session resumption with client verification requires a session id context.
        static const unsigned char kSessionContext[] = "squall";
        SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
    }
    SSL_CTX_set_alpn_select_cb(ctx, &TlsContext::select_alpn, self.get());
    if (!options.alpn.empty()) self->set_alpn_protocols(options.alpn);
    return self;
}

void TlsContext::set_alpn_protocols(std::vector<std::string> protocols) {
    std::string wire = alpn_wire_format(protocols);
    if (!server_ && SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(wire.data()),
                                            static_cast<unsigned>(wire.size())) != 0) {  // 0 is success
        throw TlsError("TLS: SSL_CTX_set_alpn_protos failed: " + drain_error_queue());
    }
    alpn_ = std::move(protocols);
    alpn_wire_ = std::move(wire);
}

int TlsContext::select_alpn(ssl_st*, const unsigned char** out, unsigned char* outlen,
                            const unsigned char* in, unsigned int inlen, void* arg) {
    const auto* self = static_cast<const TlsContext*>(arg);
    // Our preference order wins; `in` is the client's length-prefixed list (validated by OpenSSL).
    for (const auto& wanted : self->alpn_) {
        for (unsigned int i = 0; i < inlen;) {
            const unsigned int len = in[i];
            if (i + 1 + len > inlen) break;
            if (len == wanted.size() && std::memcmp(in + i + 1, wanted.data(), len) == 0) {
                *out = in + i + 1;
                *outlen = static_cast<unsigned char>(len);
                return SSL_TLSEXT_ERR_OK;
            }
            i += 1 + len;
        }
    }
    return SSL_TLSEXT_ERR_NOACK;
}

// ---------------------------------------------------------------------------------------------------------
// TlsEngine

struct TlsEngine::Impl {
    std::shared_ptr<const TlsContext> context;
    SSL* ssl = nullptr;
    Buffer in;   // ciphertext from the peer, not yet read by OpenSSL
    Buffer out;  // ciphertext for the peer
    bool eof = false;
    BufferBioState bio_state{&in, &out, &eof};
    std::string peer_name;  // for messages: the hostname, or "client" on the server side
    bool handshake_done = false;
    bool shutdown_sent = false;
    bool peer_closed = false;
    std::string deferred_error;  // a read error found after some plaintext was returned

    ~Impl() { SSL_free(ssl); }

    [[noreturn]] void fail(const std::string& what, int ssl_error);
};

void TlsEngine::Impl::fail(const std::string& what, int ssl_error) {
    const unsigned long first = ERR_peek_error();
    const long verify = SSL_get_verify_result(ssl);
    const bool verify_failed = ERR_GET_LIB(first) == ERR_LIB_SSL &&
                               ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
                               verify != X509_V_OK;
    if (verify_failed) {
        ERR_clear_error();
        throw TlsError(what + ": certificate verify failed: " + X509_verify_cert_error_string(verify) +
                           " (code " + std::to_string(verify) + ")",
                       verify);
    }
    if (is_unexpected_eof(first) || (ssl_error == SSL_ERROR_SYSCALL && first == 0)) {
        ERR_clear_error();
        if (!handshake_done) throw TlsError(what + ": connection closed by the peer during the handshake");
        throw TlsError("TLS stream from " + peer_name + " truncated: connection closed without close_notify");
    }
    std::string reason = drain_error_queue();
    if (reason.empty()) reason = "SSL_get_error " + std::to_string(ssl_error);
    throw TlsError(what + ": " + reason);
}

TlsEngine::TlsEngine(std::shared_ptr<const TlsContext> context, std::string_view server_hostname)
    : impl_(std::make_unique<Impl>()) {
    if (!context) throw UsageError("TlsEngine needs a TlsContext");
    impl_->context = std::move(context);
    const TlsContext& ctx = *impl_->context;
    if (!ctx.is_server() && ctx.check_hostname() && server_hostname.empty()) {
        throw UsageError("TlsEngine: a client that checks hostnames needs server_hostname");
    }
    ERR_clear_error();
    impl_->ssl = SSL_new(ctx.native_handle());
    if (impl_->ssl == nullptr) throw TlsError("TLS: SSL_new failed: " + drain_error_queue());
    SSL* ssl = impl_->ssl;
    BIO* bio = BIO_new(buffer_bio_method());
    if (bio == nullptr) throw TlsError("TLS: BIO_new failed: " + drain_error_queue());
    BIO_set_data(bio, &impl_->bio_state);
    SSL_set_bio(ssl, bio, bio);  // one BIO both ways: SSL takes the single reference
    if (ctx.is_server()) {
        SSL_set_accept_state(ssl);
        impl_->peer_name = "client";
        return;
    }
    SSL_set_connect_state(ssl);
    impl_->peer_name = server_hostname.empty() ? std::string("server") : std::string(server_hostname);
    if (server_hostname.empty()) return;
    std::string name;
    const bool is_ip = parse_ip_literal(server_hostname, name);
    // RFC 6066: SNI carries host names only, never IP literals.
    if (!is_ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
        throw TlsError("TLS: invalid server name \"" + name + "\": " + drain_error_queue());
    }
    if (ctx.check_hostname()) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                             : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
        if (ok != 1) throw TlsError("TLS: cannot check server name \"" + name + "\": " + drain_error_queue());
    }
}

TlsEngine::~TlsEngine() = default;
TlsEngine::TlsEngine(TlsEngine&&) noexcept = default;
TlsEngine& TlsEngine::operator=(TlsEngine&&) noexcept = default;

void TlsEngine::feed_ciphertext(std::span<const char> bytes) {
    impl_->in.append(std::string_view(bytes.data(), bytes.size()));
}

std::span<char> TlsEngine::prepare_ciphertext(size_t min_bytes) {
    if (impl_->in.capacity() == 0 && min_bytes <= BlockPool::kMaxBlock)
        impl_->in.take_storage(std::max(min_bytes, Buffer::kMinCapacity));
    return impl_->in.prepare(min_bytes);
}

void TlsEngine::commit_ciphertext(size_t n) {
    impl_->in.commit(n);
}

void TlsEngine::feed_eof() {
    impl_->eof = true;
}

size_t TlsEngine::buffered_ciphertext() const {
    return impl_->in.size();
}

std::string_view TlsEngine::pending_ciphertext() const {
    return impl_->out.view();
}

void TlsEngine::consume_ciphertext(size_t n) {
    impl_->out.consume(n);
}

TlsEngine::Status TlsEngine::handshake_step() {
    Impl& s = *impl_;
    if (s.handshake_done) return Status::done;
    ERR_clear_error();
    const int r = SSL_do_handshake(s.ssl);
    if (r == 1) {
        s.handshake_done = true;
        return Status::done;
    }
    const int err = SSL_get_error(s.ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        return s.out.empty() ? Status::want_read : Status::want_write;
    }
    s.fail(SSL_is_server(s.ssl) ? "TLS handshake with client failed"
                                : "TLS handshake with " + s.peer_name + " failed",
           err);
}

bool TlsEngine::handshake_done() const {
    return impl_->handshake_done;
}

size_t TlsEngine::read_plaintext(Buffer& out, size_t max_bytes) {
    Impl& s = *impl_;
    if (!s.handshake_done) throw UsageError("TlsEngine::read_plaintext before the handshake completed");
    if (!s.deferred_error.empty()) throw TlsError(s.deferred_error);
    constexpr size_t kChunk = 16 * 1024;  // one TLS record's plaintext
    size_t total = 0;
    while (total < max_bytes && !s.peer_closed) {
        auto space = out.prepare(std::min(kChunk, max_bytes - total));
        const size_t want = std::min(space.size(), max_bytes - total);
        size_t got = 0;
        ERR_clear_error();
        const int r = SSL_read_ex(s.ssl, space.data(), want, &got);
        if (r == 1) {
            out.commit(got);
            total += got;
            continue;
        }
        const int err = SSL_get_error(s.ssl, r);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
        if (err == SSL_ERROR_ZERO_RETURN) {
            s.peer_closed = true;
            break;
        }
        // Return what was decrypted first; the error surfaces on the next call.
        try {
            s.fail("TLS read from " + s.peer_name + " failed", err);
        } catch (const TlsError& e) {
            if (total == 0) throw;
            s.deferred_error = e.what();
        }
        break;
    }
    return total;
}

void TlsEngine::write_plaintext(std::string_view bytes) {
    Impl& s = *impl_;
    if (!s.handshake_done) throw UsageError("TlsEngine::write_plaintext before the handshake completed");
    if (s.shutdown_sent) throw UsageError("TlsEngine::write_plaintext after shutdown()");
    size_t done = 0;
    while (done < bytes.size()) {
        size_t written = 0;
        ERR_clear_error();
        const int r = SSL_write_ex(s.ssl, bytes.data() + done, bytes.size() - done, &written);
        if (r != 1) s.fail("TLS write to " + s.peer_name + " failed", SSL_get_error(s.ssl, r));
        done += written;
    }
}

void TlsEngine::shutdown() {
    Impl& s = *impl_;
    if (s.shutdown_sent || !s.handshake_done) return;
    s.shutdown_sent = true;
    ERR_clear_error();
    SSL_shutdown(s.ssl);  // queues close_notify; we do not wait for the peer's
    ERR_clear_error();
}

bool TlsEngine::peer_closed() const {
    return impl_->peer_closed || (SSL_get_shutdown(impl_->ssl) & SSL_RECEIVED_SHUTDOWN) != 0;
}

std::string TlsEngine::alpn_selected() const {
    const unsigned char* data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(impl_->ssl, &data, &len);
    return data ? std::string(reinterpret_cast<const char*>(data), len) : std::string();
}

std::string TlsEngine::protocol_version() const {
    return SSL_get_version(impl_->ssl);
}

std::string TlsEngine::cipher() const {
    const char* name = SSL_get_cipher_name(impl_->ssl);
    return name ? name : "";
}

bool TlsEngine::has_peer_certificate() const {
    X509* cert = SSL_get1_peer_certificate(impl_->ssl);
    if (cert == nullptr) return false;
    X509_free(cert);
    return true;
}

void TlsEngine::shrink_buffers() {
    impl_->in.shrink();
    impl_->out.shrink();
}

void TlsEngine::release_buffers() {
    impl_->in.give_storage();
    impl_->out.give_storage();
    // OpenSSL's own record buffers (about 17 KiB read, 17 KiB write); it frees them only when empty and
    // allocates them again on the next record.
    SSL_free_buffers(impl_->ssl);
}

size_t TlsEngine::held_buffer_bytes() const {
    return impl_->in.capacity() + impl_->out.capacity();
}

ssl_st* TlsEngine::native_handle() const {
    return impl_->ssl;
}

}  // namespace squall

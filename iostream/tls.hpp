// TLS without sockets: squall::TlsContext (configuration, shared by many connections) and
// squall::TlsEngine (one connection's TLS state over in-memory ciphertext buffers, OpenSSL 3).
//
// The engine never touches a file descriptor, so the same code runs under epoll and io_uring: the stream
// moves ciphertext between the socket and the engine and the engine turns it into plaintext.
//
//     auto ctx = squall::TlsContext::client({.ca_file = "ca.pem"});
//     squall::TlsEngine tls(ctx, "example.com");   // SNI + hostname verification
//     for (;;) {                                   // handshake
//         auto st = tls.handshake_step();         // throws TlsError naming the reason
//         send_all(tls.pending_ciphertext());      // then tls.consume_ciphertext(bytes sent)
//         if (st == squall::TlsEngine::Status::done) break;
//         if (st == squall::TlsEngine::Status::want_read) tls.feed_ciphertext(recv_some());
//     }
//     tls.write_plaintext("GET / HTTP/1.1\r\n...");   // ciphertext appears in pending_ciphertext()
//     size_t n = tls.read_plaintext(read_buffer);      // decrypts what was fed, straight into a Buffer
//
// After every call, pending_ciphertext() may hold bytes for the peer (handshake records, alerts, key
// updates, close_notify): the caller sends them. Failures throw TlsError; an alert the engine produced
// for the peer is still in pending_ciphertext() and is worth sending before closing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "squall/coro/errors.hpp"
#include "squall/iostream/buffer.hpp"
#include "squall/iostream/errors.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace squall {

// The lowest protocol version a context accepts.
enum class TlsVersion { tls1_2, tls1_3 };

// Settings of a client context (TlsContext::client). File errors surface when the context is made.
struct TlsClientOptions {
    bool verify_peer = true;          // verify the server's chain (on by default)
    bool check_hostname = true;       // and that it was issued for the hostname given to the engine
    std::string ca_file{};            // PEM CA bundle; empty: the system store (default verify paths)
    std::string ca_path{};            // hashed CA directory, optional
    std::string cert_file{};          // client certificate chain (PEM), optional
    std::string key_file{};           // its private key (PEM); defaults to cert_file
    std::vector<std::string> alpn{};  // protocols to offer, most preferred first
    TlsVersion min_version = TlsVersion::tls1_2;  // lowest version offered
};

// Whether a server asks for a client certificate: not at all, verified if sent, or demanded.
enum class ClientCertMode { none, optional, required };

// Settings of a server context (TlsContext::server).
struct TlsServerOptions {
    std::string cert_file{};                            // certificate chain (PEM), required
    std::string key_file{};                             // private key (PEM); defaults to cert_file
    ClientCertMode client_cert = ClientCertMode::none;  // client certificates (see ClientCertMode)
    std::string client_ca_file{};     // CAs that sign accepted client certificates (needed unless none)
    std::vector<std::string> alpn{};  // protocols accepted, most preferred first
    TlsVersion min_version = TlsVersion::tls1_2;  // lowest version accepted
};

// An SSL_CTX with its settings. Create once, share among connections (engines hold a shared_ptr).
// Construction errors (unreadable file, key not matching the certificate) throw TlsError naming the file.
class TlsContext {
public:
    // A client context (verifying against the system store by default) / a server context.
    static std::shared_ptr<TlsContext> client(const TlsClientOptions& options = {});
    static std::shared_ptr<TlsContext> server(const TlsServerOptions& options);

    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    // The settings the context was made with.
    bool is_server() const { return server_; }
    bool verify_peer() const { return verify_peer_; }
    bool check_hostname() const { return check_hostname_; }
    // Replaces the ALPN protocol list (client: offered; server: accepted, in preference order). Not
    // thread-safe against handshakes in progress on this context.
    void set_alpn_protocols(std::vector<std::string> protocols);
    const std::vector<std::string>& alpn_protocols() const { return alpn_; }

    ssl_ctx_st* native_handle() const { return ctx_; }  // the SSL_CTX (still owned by the context)

private:
    struct Key {};  // only the factories construct

public:
    // For client() and server() only (Key is private).
    TlsContext(Key, bool server);

private:
    static int select_alpn(ssl_st*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                           unsigned int inlen, void* arg);

    ssl_ctx_st* ctx_ = nullptr;
    bool server_ = false;
    bool verify_peer_ = false;
    bool check_hostname_ = false;
    std::vector<std::string> alpn_;
    std::string alpn_wire_;  // length-prefixed form of alpn_
};

// One connection's TLS state machine over two in-memory ciphertext buffers.
//
// Handshake states (handshake_step()):
//   want_write  ciphertext is pending and the handshake cannot go on until the peer answers it: send
//               pending_ciphertext(), then call again
//   want_read   nothing to send; feed more ciphertext from the peer, then call again
//   done        established (pending_ciphertext() may still hold the last flight: send it)
//   failure     throws TlsError (verification, alert from the peer, malformed bytes, EOF mid-handshake)
class TlsEngine {
public:
    // handshake_step()'s result (see the states above).
    enum class Status { want_read, want_write, done };

    // Client: server_hostname is sent as SNI (unless an IP literal) and, with check_hostname, must match
    // the certificate (DNS name, or IP address for an IP literal). Server: pass a server context and no
    // hostname. Throws UsageError for a client context that checks hostnames but gets none.
    explicit TlsEngine(std::shared_ptr<const TlsContext> context, std::string_view server_hostname = {});
    ~TlsEngine();
    // Moving transfers the connection; the moved-from engine may only be destroyed or assigned to.
    TlsEngine(TlsEngine&&) noexcept;
    TlsEngine& operator=(TlsEngine&&) noexcept;

    // --- ciphertext from the peer
    // Appends bytes received from the peer.
    void feed_ciphertext(std::span<const char> bytes);
    // Zero-copy variant for recv: write into prepare_ciphertext(n), then commit_ciphertext(bytes written).
    std::span<char> prepare_ciphertext(size_t min_bytes);
    void commit_ciphertext(size_t n);
    // The transport reached EOF: after the buffered records, a missing close_notify is a truncation.
    void feed_eof();

    // Ciphertext fed but not yet consumed by OpenSSL (part of a record, or records not read yet because
    // read_plaintext stopped at max_bytes).
    size_t buffered_ciphertext() const;

    // --- ciphertext for the peer
    // Bytes to send to the peer; consume_ciphertext(n) once n of them were sent.
    std::string_view pending_ciphertext() const;
    void consume_ciphertext(size_t n);

    // --- handshake
    // Advances the handshake with the ciphertext fed so far (see the states above).
    Status handshake_step();
    bool handshake_done() const;  // handshake_step() returned done

    // --- plaintext
    // Decrypts every complete record fed so far into out (via out.prepare/commit, no intermediate copy),
    // at most max_bytes. Returns the number of bytes appended; 0 means more ciphertext is needed, or the
    // peer closed cleanly (peer_closed()). Throws TlsError on a fatal alert, bad record, or a truncated
    // stream (feed_eof() without close_notify).
    size_t read_plaintext(Buffer& out, size_t max_bytes = SIZE_MAX);
    // Encrypts all of bytes into pending_ciphertext(). Only after the handshake (UsageError before).
    void write_plaintext(std::string_view bytes);
    // Queues our close_notify (once). Reads still work until the peer's close_notify arrives.
    void shutdown();
    // The peer sent close_notify: a clean end of stream.
    bool peer_closed() const;

    // --- after the handshake
    std::string alpn_selected() const;     // empty if none was negotiated
    std::string protocol_version() const;  // e.g. "TLSv1.3"
    std::string cipher() const;            // the OpenSSL cipher name
    bool has_peer_certificate() const;     // the peer presented a certificate

    // Releases the memory of the (empty) ciphertext buffers of an idle connection (Buffer::shrink).
    void shrink_buffers();
    // An idle connection's: gives the empty ciphertext buffers to this thread's BlockPool (taken back on
    // the next record) and frees OpenSSL's empty record buffers (SSL_free_buffers). Buffers holding
    // bytes are kept.
    void release_buffers();
    // Bytes of the two ciphertext buffers (OpenSSL's own are not counted).
    size_t held_buffer_bytes() const;

    ssl_st* native_handle() const;  // the SSL object (still owned by the engine)

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace squall

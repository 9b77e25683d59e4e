// ResponseParser: an incremental HTTP/1.1 response parser, with no I/O. The connection feeds it
// bytes straight from its stream's read buffer, in slices of any size, and gets events back.
//
//   ResponseParser parser({.method = "GET", .max_header_size = req.max_header_size},
//                         {.on_headers = [&](const ResponseParser& p) { ... p.code() ... },
//                          .on_body = [&](std::span<const char> piece) { sink(piece); }});
//   squall::Buffer& buffer = stream->read_buffer();   // contiguous bytes already read
//   while (!parser.complete()) {
//       if (buffer.empty()) {
//           try {
//               co_await stream->fill();
//           } catch (const squall::StreamClosedError&) {
//               parser.finish_eof();                  // ends a close-delimited body, else throws
//               break;
//           }
//           continue;
//       }
//       buffer.consume(parser.feed(buffer.view()));   // never consumes past the end of the response
//   }
//   bool reusable = parser.keep_alive() && buffer.empty();
//
// 1xx responses (100 Continue, 103 Early Hints) are reported through on_interim and skipped; the parser
// then reads the final response. Every malformed input throws ProtocolError saying what and at which byte
// offset; the parser is then failed and every later call throws the same error.
//
// States (`State`):
//   head      status line and headers of a 1xx or the final response      -> head (after 1xx) | body | done
//   body      Content-Length, chunked (then trailers) or close-delimited  -> done
//   done      final response complete; further bytes are not consumed (and make keep_alive() false)
//   failed    a ProtocolError was thrown (or a callback threw); terminal
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "squall/httpclient/headers.hpp"

namespace squall::http {

// Bound on the chunk extensions of one chunk line (they are skipped; a server that streams an endless
// extension hits this, as llhttp 9 bounds them since CVE-2024-22019).
inline constexpr std::size_t kMaxChunkExtensionSize = 16 * 1024;

// What a ResponseParser needs to know about the request, and its limits.
struct ResponseParserOptions {
    // The request's method: a response to HEAD has no body whatever its headers say, and a 2xx response to
    // CONNECT ends at its header block (the bytes after it belong to the tunnel).
    std::string method = "GET";
    // Bound on the status line plus headers (all 1xx heads and the final head together), and separately
    // on the trailers.
    std::size_t max_header_size = 64 * 1024;
    // Bound on the body bytes as received (before any decompression).
    std::size_t max_body_size = 100 * 1024 * 1024;
};

class ResponseParser;

// Optional hooks, called from inside feed() / finish_eof().
struct ResponseParserCallbacks {
    // A 1xx response (not 101) was read: its code and headers. Parsing continues with the next response.
    std::function<void(int code, const HTTPHeaders& headers)> on_interim{};
    // The final response's status line and headers are complete (code(), reason(), headers() are set).
    std::function<void(const ResponseParser& parser)> on_headers{};
    // A piece of the body, as received (chunk framing removed). The span points into the slice given to
    // feed() and is valid only during the call. When unset, the body is collected in body().
    std::function<void(std::span<const char> piece)> on_body{};
};

// An incremental HTTP/1.1 response parser (status line, headers, Content-Length / chunked /
// close-delimited body, trailers), fed bytes as they arrive. Handles 1xx responses before the final one.
class ResponseParser {
public:
    // Reading the head, reading the body, complete, or failed (after an exception).
    enum class State { head, body, done, failed };

    // The callbacks' captures must outlive the parser.
    explicit ResponseParser(ResponseParserOptions options = {}, ResponseParserCallbacks callbacks = {});
    ~ResponseParser();
    ResponseParser(const ResponseParser&) = delete;
    ResponseParser& operator=(const ResponseParser&) = delete;

    // Parses bytes and returns how many were consumed. All of `data` is consumed unless the final response
    // completes inside it: then the count stops at its last byte and the rest is left to the caller (and
    // keep_alive() becomes false: stray bytes after a response mean the connection is not reusable).
    // Throws ProtocolError for malformed input or an exceeded limit; an exception thrown by a callback
    // propagates unchanged. Either way the parser is failed afterwards.
    std::size_t feed(std::string_view data);

    // The peer closed the connection. Completes a close-delimited body; otherwise, unless the response is
    // already complete, throws ProtocolError saying what was cut short ("body shorter than Content-Length:
    // got X of Y bytes", truncated chunked body, incomplete headers, or no response at all).
    void finish_eof();

    // Where parsing is; headers_complete(): the final head was read; complete(): the whole response.
    State state() const noexcept { return state_; }
    bool headers_complete() const noexcept { return state_ == State::body || state_ == State::done; }
    bool complete() const noexcept { return state_ == State::done; }

    // The final response's status, reason phrase, version and headers; valid once headers_complete().
    // take_*() move the value out (for building an HTTPResponse without copies).
    int code() const noexcept { return code_; }
    const std::string& reason() const noexcept { return reason_; }
    std::string take_reason() noexcept { return std::move(reason_); }
    int http_major() const noexcept { return http_major_; }
    int http_minor() const noexcept { return http_minor_; }
    const HTTPHeaders& headers() const noexcept { return headers_; }
    HTTPHeaders take_headers() noexcept { return std::move(headers_); }
    // Chunked responses only; valid once complete().
    const HTTPHeaders& trailers() const noexcept { return trailers_; }
    HTTPHeaders take_trailers() noexcept { return std::move(trailers_); }
    // The body, only when no on_body callback was given.
    const std::string& body() const noexcept { return body_; }
    std::string take_body() noexcept { return std::move(body_); }

    // The body length the headers announced, when it is a valid Content-Length framing the body.
    std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
    bool chunked() const noexcept { return chunked_; }  // Transfer-Encoding: chunked
    // The body runs until the peer closes (no Content-Length, not chunked).
    bool close_delimited() const noexcept { return close_delimited_; }
    std::uint64_t body_bytes() const noexcept { return body_bytes_; }  // body bytes received so far
    // Bytes consumed by feed() so far, 1xx responses included. Zero means the peer sent nothing (a stale
    // pooled connection may be retried).
    std::uint64_t bytes_consumed() const noexcept { return consumed_; }

    // Whether the connection may carry another request after this response: HTTP/1.1 without
    // "Connection: close", HTTP/1.0 with "Connection: keep-alive" and without close, a framing that is
    // not close-delimited; and not after Content-Length together with Transfer-Encoding, not with stray
    // bytes after the response, not after a CONNECT tunnel. Meaningful once complete(); false before.
    bool keep_alive() const noexcept { return state_ == State::done && keep_alive_; }
    // The final head has a Keep-Alive field (its timeout and max parameters, parse_keep_alive), so that
    // a connection looks for it only when it is there. Valid once headers_complete().
    bool has_keep_alive_field() const noexcept { return keep_alive_field_; }
    // The value of the final head's first Content-Encoding field, as headers().get("Content-Encoding")
    // would return it without the search. Valid once headers_complete() and until take_headers().
    std::optional<std::string_view> content_encoding() const noexcept {
        if (content_encoding_field_ == kNoField || content_encoding_field_ >= headers_.size())
            return std::nullopt;
        return headers_.field(content_encoding_field_).second;
    }

private:
    enum class BodyKind : std::uint8_t { none, length, chunked, until_close };
    // Chunked body states; the extension states sit between size_lf and data, the trailer ones last.
    enum class ChunkState : std::uint8_t {
        size_first,
        size,
        ext_before_semicolon,
        ext_after_semicolon,
        ext_name,
        ext_name_bws,
        ext_value_start,
        ext_token,
        ext_quoted,
        ext_quoted_pair,
        ext_after_quoted,
        size_lf,
        data,
        data_cr,
        data_lf,
        trailer_line_start,
        trailer_name,
        trailer_value,
        trailer_lf,
        final_lf,
    };
    static constexpr unsigned kMaxChunkSizeDigits = 64;  // leading zeros included

    [[noreturn]] void fail_now(std::string message);
    [[noreturn]] void fail_head(const char* what, std::uint64_t offset);
    // Calls a user callback; if it throws, the parser is failed and the exception propagates.
    template <typename Callback, typename... Args>
    void call(const Callback& callback, Args&&... args);
    // Parses the head line at p (n bytes at stream offset `at`): returns its length, LF included, or 0
    // when it does not end within the n bytes. A malformed line throws, but only once it is whole, so
    // every split of the input reports the same error.
    std::size_t parse_head_line(const char* p, std::size_t n, std::uint64_t at);
    // For a line whose byte k does not fit: 0 when no LF follows yet, else throws naming byte k.
    std::size_t reject_line(const char* p, std::size_t n, std::size_t k, std::uint64_t at, const char* what);
    void close_field();  // the last field can no longer be continued: note_field() if it may matter
    void note_field();   // takes note of the last field when it frames the body or the connection
    void parse_content_length(std::string_view text);
    void end_of_head();
    [[noreturn]] void fail_at(const char* what, unsigned char c, std::uint64_t offset);
    void check_not_failed() const;
    void start_message();
    std::size_t decode_body(const char* data, std::size_t n);
    void decode_extension_byte(unsigned char c, std::uint64_t at);
    bool decode_trailer_byte(unsigned char c, std::uint64_t at);
    void deliver(const char* at, std::size_t n);

    ResponseParserOptions options_;
    ResponseParserCallbacks callbacks_;
    State state_ = State::head;
    int code_ = 0;
    std::string reason_;
    int http_major_ = 0;
    int http_minor_ = 0;
    HTTPHeaders headers_;
    HTTPHeaders trailers_;
    std::string body_;
    std::optional<std::uint64_t> content_length_;
    bool chunked_ = false;
    bool close_delimited_ = false;
    bool keep_alive_ = false;
    std::uint64_t body_bytes_ = 0;
    std::uint64_t consumed_ = 0;
    BodyKind body_kind_ = BodyKind::none;
    ChunkState chunk_state_ = ChunkState::size_first;
    unsigned size_digits_ = 0;
    std::uint64_t chunk_size_ = 0;
    std::uint64_t remaining_ = 0;  // of the Content-Length body or of the current chunk
    std::size_t extension_bytes_ = 0;
    std::size_t trailer_bytes_ = 0;
    bool open_trailer_ = false;  // the last field of trailers_ is being parsed
    std::string error_;          // set when failed

    // The head being parsed (of a 1xx or the final response).
    std::string line_;              // a head line cut by the end of a slice, until its LF arrives
    std::uint64_t head_start_ = 0;  // where max_header_size started counting (all heads together)
    bool status_seen_ = false;      // the status line of this head was read
    bool field_open_ = false;       // the last field may still be continued by an obsolete fold
    bool noted_field_ = false;      // its name has a length close_field looks at
    bool has_transfer_encoding_ = false;
    bool transfer_chunked_ = false;       // the final Transfer-Encoding coding is chunked
    bool connection_close_ = false;       // Connection: close
    bool connection_keep_alive_ = false;  // Connection: keep-alive
    bool keep_alive_field_ = false;       // a Keep-Alive field
    static constexpr std::uint32_t kNoField = UINT32_MAX;
    std::uint32_t content_encoding_field_ = kNoField;  // index of the first Content-Encoding field
    std::optional<std::uint64_t> announced_length_;    // the validated Content-Length of this head
};

}  // namespace squall::http

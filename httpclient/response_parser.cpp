#include "squall/httpclient/response_parser.hpp"

#include <llhttp.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <string>
#include <utility>

#include "squall/coro/frame_allocator.hpp"
#include "squall/httpclient/errors.hpp"

// The Content-Length takeover below relies on llhttp 8.1's header_state numbering; re-check it (and the
// tests) before moving to another llhttp version.
static_assert(LLHTTP_VERSION_MAJOR == 8 && LLHTTP_VERSION_MINOR == 1,
              "ResponseParser is written for llhttp 8.1");

namespace squall::http {

namespace {
// llhttp's internal header_state for a field it recognised as Content-Length (llhttp 8.1,
// HEADER_STATE_CONTENT_LENGTH); 0 is HEADER_STATE_GENERAL.
constexpr std::uint8_t kHeaderStateContentLength = 2;
constexpr std::uint8_t kHeaderStateGeneral = 0;
// Room reserved at a response head's first field: its names and values, and its fields (nginx sends 8,
// most servers 5 to 15).
constexpr std::size_t kTypicalHeadBytes = 512, kTypicalFields = 16;

bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}
}  // namespace

// Framing: llhttp parses the status line and the header block only. Once the final head is complete,
// on_headers_complete tells llhttp "no body" and the body is framed here (BodyDecoder below): Content-Length
// countdown, close-delimited, and chunked per RFC 9112 7.1 (chunk extensions by their grammar, CRLF after
// every chunk's data, trailer fields). llhttp 8.1 as Debian builds it skips the two bytes after chunk data
// unchecked and rejects quoted-pairs in extension values; its strict mode is a build-time choice we do not
// get from the system library. Owning the body framing keeps every byte of it checked in one place.
//
// llhttp lenient flags: none is enabled, deliberately.
//   lenient_headers            off: it disables header value validation, which is what stops CR/NUL
//                              smuggling; bare-LF header lines are therefore rejected (tested).
//   lenient_chunked_length     off and not needed: Content-Length is handled here (see below), so llhttp
//                              never sees Content-Length together with Transfer-Encoding.
//   lenient_keep_alive         off and not needed: the parser pauses after each head and never lets
//                              llhttp read a second message.
//   lenient_transfer_encoding  off: "chunked" must be the final coding; otherwise a response is read
//                              until close (RFC 9112 6.3), which llhttp does without the flag.
//   lenient_version            off: only HTTP/1.x status lines are accepted (tested).
//
// Content-Length takeover: RFC 9110 8.6 lets a recipient accept "5, 5" and repeated equal fields as one
// value, and RFC 9112 6.3 says Transfer-Encoding overrides Content-Length. llhttp 8.1 rejects all three, so
// when llhttp recognises a Content-Length field we turn its header_state back to "general" (it then hands
// the value to us like any other header), validate the value here, and at the end of the head set
// llhttp's F_CONTENT_LENGTH flag and content_length ourselves when the body is framed by it.
// Recycled per thread (coro/frame_allocator.hpp): one parser per exchange allocates nothing in steady state.
struct ResponseParser::Impl : ::squall::FrameAllocated {
    llhttp_t parser{};
    ResponseParser* owner = nullptr;

    // Maps pointers in the current slice to byte offsets in the response stream.
    const char* slice_begin = nullptr;
    std::uint64_t slice_offset = 0;

    // Header (or trailer) field being assembled from llhttp's pieces, in place at the end of `open_in`
    // (headers_ or trailers_); null between fields. A field left open by an error is dropped.
    HTTPHeaders* open_in = nullptr;
    bool value_has_piece = false;
    bool strip_leading_ows = true;
    std::uint64_t value_end_offset = 0;

    std::uint64_t head_start = 0;  // offset where the current head limit started counting
    bool interim = false;          // the message being parsed is a 1xx response
    bool cl_te_conflict = false;
    bool tunnel = false;
    std::optional<std::uint64_t> announced_length;  // validated Content-Length of this message

    std::string error;  // our own reason for failing, when a callback failed
    std::exception_ptr callback_exception;

    std::uint64_t offset_of(const char* p) const noexcept {
        return slice_offset + static_cast<std::uint64_t>(p - slice_begin);
    }

    // Returns -1 after recording why; llhttp then stops with an error.
    int fail(std::string why) {
        if (error.empty()) error = std::move(why);
        return -1;
    }

    void drop_open_field() noexcept {
        if (open_in != nullptr) open_in->pop_back();
        open_in = nullptr;
    }

    void reset_message() {
        drop_open_field();
        value_has_piece = false;
        strip_leading_ows = true;
        interim = false;
        announced_length.reset();
    }

    int parse_content_length(std::string_view text) {
        // A comma-separated list of equal decimal values (RFC 9110 8.6); anything else is an error.
        bool any = false;
        while (true) {
            auto comma = text.find(',');
            auto item = detail::trim_ows(text.substr(0, comma));
            if (item.empty()) return fail("invalid Content-Length value (empty element)");
            std::uint64_t n = 0;
            for (char c : item) {
                if (c < '0' || c > '9') return fail("invalid character in Content-Length value");
                auto digit = static_cast<std::uint64_t>(c - '0');
                if (n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
                    return fail("Content-Length overflow");
                n = n * 10 + digit;
            }
            if (announced_length && *announced_length != n) {
                return fail("conflicting Content-Length values " + std::to_string(*announced_length) +
                            " and " + std::to_string(n));
            }
            announced_length = n;
            any = true;
            if (comma == std::string_view::npos) break;
            text.remove_prefix(comma + 1);
        }
        return any ? 0 : fail("invalid Content-Length value");
    }

    static Impl& of(llhttp_t* p) { return *static_cast<Impl*>(p->data); }

    // --- llhttp callbacks. None may throw: exceptions are stored and rethrown by feed(). ---

    static int on_message_begin(llhttp_t* p) {
        Impl& self = of(p);
        self.reset_message();
        self.owner->start_message();
        return 0;
    }

    static int on_status(llhttp_t* p, const char* at, std::size_t len) {
        Impl& self = of(p);
        self.owner->reason_.append(at, len);
        return 0;
    }

    static int on_header_field(llhttp_t* p, const char* at, std::size_t len) {
        Impl& self = of(p);
        if (self.open_in == nullptr) {
            HTTPHeaders& target = self.owner->headers_;
            if (target.empty())
                target.reserve(kTypicalHeadBytes, kTypicalFields);  // one allocation, not a growth series
            target.open_field();
            self.open_in = &target;
        }
        self.open_in->append_name(std::string_view(at, len));
        return 0;
    }

    static int on_header_field_complete(llhttp_t* p) {
        if (p->header_state == kHeaderStateContentLength) p->header_state = kHeaderStateGeneral;
        Impl& self = of(p);
        // llhttp 8.1 (loose mode) accepts spaces and empty names; RFC 9112 5.1 requires a token with no
        // whitespace before the colon, and a sloppy name is how header smuggling starts.
        if (self.open_in == nullptr || !detail::is_token(self.open_in->last_name())) {
            std::string shown = self.open_in == nullptr
                                    ? std::string()
                                    : std::string(self.open_in->last_name().substr(0, 60));
            for (char& c : shown) {
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
            }
            return self.fail("malformed HTTP response: invalid header name \"" + shown + "\"");
        }
        return 0;
    }

    static int on_header_value(llhttp_t* p, const char* at, std::size_t len) {
        Impl& self = of(p);
        if (self.open_in == nullptr) return self.fail("malformed HTTP response: header value without a name");
        HTTPHeaders& h = *self.open_in;
        std::uint64_t start = self.offset_of(at);
        // llhttp restarts the value span after an obsolete line fold, dropping the CRLF: a piece that does
        // not start where the previous one ended follows a fold. Join folded lines with one space.
        if (self.value_has_piece && start != self.value_end_offset) {
            std::string_view value = h.last_value();
            while (!value.empty() && is_ows(value.back())) value.remove_suffix(1);
            h.resize_last_value(value.size());
            if (!value.empty()) h.append_value(" ");
            self.strip_leading_ows = true;
        }
        self.value_has_piece = true;
        self.value_end_offset = start + len;
        if (self.strip_leading_ows) {
            while (len != 0 && is_ows(*at)) {
                ++at;
                --len;
            }
            if (len != 0) self.strip_leading_ows = false;
        }
        h.append_value(std::string_view(at, len));
        return 0;
    }

    static int on_header_value_complete(llhttp_t* p) {
        Impl& self = of(p);
        if (self.open_in == nullptr) return self.fail("malformed HTTP response: header value without a name");
        HTTPHeaders& h = *self.open_in;
        std::string_view value = h.last_value();
        while (!value.empty() && is_ows(value.back())) value.remove_suffix(1);
        if (value.size() != h.last_value().size()) h.resize_last_value(value.size());
        int rc = 0;
        if (iequals(h.last_name(), "content-length")) rc = self.parse_content_length(h.last_value());
        self.open_in = nullptr;
        self.value_has_piece = false;
        self.strip_leading_ows = true;
        return rc;
    }

    static int on_headers_complete(llhttp_t* p) {
        Impl& self = of(p);
        ResponseParser& r = *self.owner;
        r.code_ = p->status_code;
        r.http_major_ = p->http_major;
        r.http_minor_ = p->http_minor;
        if (r.code_ == 101) return self.fail("unexpected 101 Switching Protocols (no upgrade was requested)");
        if (r.code_ >= 100 && r.code_ < 200) {
            self.interim = true;
            return 1;  // 1xx: no body; the final response follows
        }
        if (r.code_ < 100)
            return self.fail("malformed HTTP response: invalid status code " + std::to_string(r.code_));

        const bool has_te = (p->flags & F_TRANSFER_ENCODING) != 0;
        const bool chunked = (p->flags & F_CHUNKED) != 0;
        const bool connect_ok = r.options_.method == "CONNECT" && r.code_ / 100 == 2;
        const bool no_body = r.options_.method == "HEAD" || r.code_ == 204 || r.code_ == 304 || connect_ok;
        // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, and such a message must not be followed
        // by another on the same connection (it may be an attempt at response splitting).
        self.cl_te_conflict = has_te && self.announced_length.has_value();
        self.tunnel = connect_ok;
        r.content_length_.reset();
        if (no_body) {
            r.body_kind_ = BodyKind::none;
        } else if (chunked) {
            r.chunked_ = true;
            r.body_kind_ = BodyKind::chunked;
        } else if (has_te) {
            r.close_delimited_ = true;  // chunked is not the final coding: read until close
            r.body_kind_ = BodyKind::until_close;
        } else if (self.announced_length) {
            if (*self.announced_length > r.options_.max_body_size) {
                return self.fail("Content-Length " + std::to_string(*self.announced_length) +
                                 " exceeds max_body_size of " + std::to_string(r.options_.max_body_size) +
                                 " bytes");
            }
            r.content_length_ = self.announced_length;
            r.body_kind_ = *self.announced_length == 0 ? BodyKind::none : BodyKind::length;
            r.remaining_ = *self.announced_length;
        } else {
            r.close_delimited_ = true;
            r.body_kind_ = BodyKind::until_close;
        }
        // llhttp's persistence rule (HTTP/1.1 unless "Connection: close", HTTP/1.0 only with "Connection:
        // keep-alive"), with the framing decided above: a body read until close ends the connection.
        const bool persistent = (p->http_major > 0 && p->http_minor > 0)
                                    ? (p->flags & F_CONNECTION_CLOSE) == 0
                                    : (p->flags & F_CONNECTION_KEEP_ALIVE) != 0;
        r.keep_alive_ = persistent && !r.close_delimited_ && !self.cl_te_conflict && !self.tunnel;
        r.state_ = State::body;
        if (r.callbacks_.on_headers) {
            try {
                r.callbacks_.on_headers(r);
            } catch (...) {
                self.callback_exception = std::current_exception();
                return -1;
            }
        }
        return 1;  // llhttp reads no body: BodyDecoder frames it after the pause in on_message_complete
    }

    static int on_message_complete(llhttp_t* p) {
        Impl& self = of(p);
        ResponseParser& r = *self.owner;
        if (self.interim) {
            if (r.callbacks_.on_interim) {
                try {
                    r.callbacks_.on_interim(r.code_, r.headers_);
                } catch (...) {
                    self.callback_exception = std::current_exception();
                    return -1;
                }
            }
            return HPE_PAUSED;  // feed() resets llhttp for the next response
        }
        if (r.body_kind_ == BodyKind::none) r.state_ = State::done;
        return HPE_PAUSED;  // stop at the end of this head: the body (if any) is ours, later bytes are not
    }

    static const llhttp_settings_t& settings() {
        static const llhttp_settings_t s = [] {
            llhttp_settings_t init;
            llhttp_settings_init(&init);
            init.on_message_begin = on_message_begin;
            init.on_status = on_status;
            init.on_header_field = on_header_field;
            init.on_header_field_complete = on_header_field_complete;
            init.on_header_value = on_header_value;
            init.on_header_value_complete = on_header_value_complete;
            init.on_headers_complete = on_headers_complete;
            init.on_message_complete = on_message_complete;
            return init;
        }();
        return s;
    }
};

ResponseParser::ResponseParser(ResponseParserOptions options, ResponseParserCallbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)), impl_(std::make_unique<Impl>()) {
    impl_->owner = this;
    llhttp_init(&impl_->parser, HTTP_RESPONSE, &Impl::settings());
    impl_->parser.data = impl_.get();
}

ResponseParser::~ResponseParser() = default;

void ResponseParser::start_message() {
    body_kind_ = BodyKind::none;
    chunk_state_ = ChunkState::size_first;
    code_ = 0;
    reason_.clear();
    http_major_ = http_minor_ = 0;
    headers_.clear();
}

void ResponseParser::fail_now(std::string message) {
    impl_->drop_open_field();
    if (open_trailer_) trailers_.pop_back();
    open_trailer_ = false;
    state_ = State::failed;
    error_ = std::move(message);
    throw ProtocolError(error_);
}

void ResponseParser::check_not_failed() const {
    if (state_ == State::failed) throw ProtocolError(error_);
}

std::size_t ResponseParser::feed(std::string_view data) {
    check_not_failed();
    if (state_ == State::done) {
        if (!data.empty()) keep_alive_ = false;
        return 0;
    }
    Impl& impl = *impl_;
    std::size_t pos = 0;
    while (pos < data.size()) {
        if (state_ == State::body) {
            pos += decode_body(data.data() + pos, data.size() - pos);
            if (state_ == State::done) {
                if (pos < data.size()) keep_alive_ = false;  // stray bytes after the response
                return pos;
            }
            continue;
        }
        // The head: llhttp sees at most the bytes left under max_header_size, so the limit holds at the
        // exact byte whatever the split (the head ends at its empty line's LF, where llhttp pauses).
        const std::uint64_t used_by_head = consumed_ - impl.head_start;
        if (used_by_head >= options_.max_header_size)
            fail_now("response headers exceed max_header_size of " +
                     std::to_string(options_.max_header_size) + " bytes");
        const char* begin = data.data() + pos;
        const std::size_t len = static_cast<std::size_t>(
            std::min<std::uint64_t>(data.size() - pos, options_.max_header_size - used_by_head));
        impl.slice_begin = begin;
        impl.slice_offset = consumed_;
        llhttp_errno_t err = llhttp_execute(&impl.parser, begin, len);
        if (err == HPE_OK) {
            consumed_ += len;
            pos += len;
            continue;
        }
        const char* stop = llhttp_get_error_pos(&impl.parser);
        std::size_t used = (stop != nullptr && stop >= begin && stop <= begin + len)
                               ? static_cast<std::size_t>(stop - begin)
                               : 0;
        if (err == HPE_PAUSED) {
            consumed_ += used;
            pos += used;
            if (state_ == State::done) {
                if (pos < data.size()) keep_alive_ = false;  // stray bytes after the response
                return pos;
            }
            // A 1xx response ended (parse what follows as a new response; the head limit keeps counting),
            // or the final head did and the body follows.
            impl.interim = false;
            llhttp_reset(&impl.parser);
            continue;
        }
        state_ = State::failed;
        impl.drop_open_field();
        if (impl.callback_exception) {
            error_ = "a parser callback threw";
            std::rethrow_exception(std::exchange(impl.callback_exception, nullptr));
        }
        if (!impl.error.empty()) fail_now(impl.error);
        std::string where = " at byte " + std::to_string(consumed_ + used);
        if (err == HPE_PAUSED_UPGRADE) fail_now("unexpected protocol upgrade" + where);
        const char* reason = llhttp_get_error_reason(&impl.parser);
        fail_now(std::string("malformed HTTP response: ") + (reason ? reason : "unknown error") + " (" +
                 llhttp_errno_name(err) + ")" + where);
    }
    return pos;
}

// ------------------------------------------------------------------------------------------ body framing

namespace {

bool is_hex(unsigned char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
unsigned hex_value(unsigned char c) noexcept {
    if (c <= '9') return c - '0';
    return (c | 0x20) - 'a' + 10;
}
bool is_ws(unsigned char c) noexcept {
    return c == ' ' || c == '\t';
}
// qdtext (RFC 9110 5.6.4): HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text.
bool is_qdtext(unsigned char c) noexcept {
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) ||
           c >= 0x80;
}
// The character after a backslash in a quoted-pair: HTAB / SP / VCHAR / obs-text.
bool is_quoted_pair_char(unsigned char c) noexcept {
    return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80;
}
// A field-value character (VCHAR, obs-text, SP, HTAB).
bool is_field_char(unsigned char c) noexcept {
    return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80;
}

std::string shown_byte(unsigned char c) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "0x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
    return out;
}

}  // namespace

void ResponseParser::deliver(const char* at, std::size_t n) {
    if (n > options_.max_body_size - body_bytes_)
        fail_now("body exceeds max_body_size of " + std::to_string(options_.max_body_size) + " bytes");
    body_bytes_ += n;
    if (!callbacks_.on_body) {
        body_.append(at, n);
        return;
    }
    try {
        callbacks_.on_body(std::span<const char>(at, n));
    } catch (...) {
        impl_->drop_open_field();
        state_ = State::failed;
        error_ = "a parser callback threw";
        throw;
    }
}

void ResponseParser::fail_at(const char* what, unsigned char c, std::uint64_t offset) {
    fail_now(std::string("malformed chunked body: ") + what + ", got " + shown_byte(c) + " at byte " +
             std::to_string(offset));
}

// Chunked body, RFC 9112 7.1:
//   chunked-body = *chunk last-chunk trailer-section CRLF
//   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-val = token / quoted-string          (quoted-pairs included)
// Every byte is checked; extensions are skipped (at most kMaxChunkExtensionSize bytes per chunk) and
// trailers kept (the trailer section, final CRLF included, at most max_header_size bytes).
// long: the chunked-body state machine, one case per state (size, extensions, data, CRLF, trailers).
std::size_t ResponseParser::decode_body(const char* data, std::size_t n) {
    const std::uint64_t base = consumed_;
    std::size_t i = 0;
    auto finish = [&] {
        consumed_ = base + i;
        return i;
    };
    if (body_kind_ == BodyKind::until_close) {
        i = n;
        consumed_ = base + n;
        deliver(data, n);
        return n;
    }
    if (body_kind_ == BodyKind::length) {
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n));
        consumed_ = base + take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::done;
        deliver(data, take);
        return take;
    }
    while (i < n) {
        const auto c = static_cast<unsigned char>(data[i]);
        const std::uint64_t at = base + i;
        switch (chunk_state_) {
            case ChunkState::size_first:
                if (!is_hex(c)) fail_at("invalid chunk size", c, at);
                chunk_size_ = hex_value(c);
                size_digits_ = 1;
                chunk_state_ = ChunkState::size;
                break;
            case ChunkState::size:
                if (is_hex(c)) {
                    if (++size_digits_ > kMaxChunkSizeDigits) fail_at("chunk size line too long", c, at);
                    if (chunk_size_ > (std::numeric_limits<std::uint64_t>::max() >> 4))
                        fail_now("malformed chunked body: chunk size overflows 64 bits at byte " +
                                 std::to_string(at));
                    chunk_size_ = (chunk_size_ << 4) | hex_value(c);
                    break;
                }
                if (chunk_size_ > options_.max_body_size - body_bytes_) {
                    fail_now("chunk of " + std::to_string(chunk_size_) + " bytes exceeds max_body_size of " +
                             std::to_string(options_.max_body_size) + " bytes");
                }
                extension_bytes_ = 0;
                if (c == '\r') {
                    chunk_state_ = ChunkState::size_lf;
                } else if (c == ';') {
                    chunk_state_ = ChunkState::ext_after_semicolon;
                } else if (is_ws(c)) {
                    chunk_state_ = ChunkState::ext_before_semicolon;
                } else {
                    fail_at("invalid character after the chunk size", c, at);
                }
                if (c != '\r') ++extension_bytes_;
                break;
            case ChunkState::size_lf:
                if (c != '\n') fail_at("expected LF after the chunk size line", c, at);
                if (chunk_size_ == 0) {
                    chunk_state_ = ChunkState::trailer_line_start;
                    trailer_bytes_ = 0;
                } else {
                    chunk_state_ = ChunkState::data;
                    remaining_ = chunk_size_;
                }
                break;
            case ChunkState::data: {
                const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
                remaining_ -= take;
                i += take;
                if (remaining_ == 0) chunk_state_ = ChunkState::data_cr;
                consumed_ = base + i;
                deliver(data + i - take, take);
                continue;
            }
            case ChunkState::data_cr:
                if (c != '\r') fail_at("chunk data not followed by CRLF", c, at);
                chunk_state_ = ChunkState::data_lf;
                break;
            case ChunkState::data_lf:
                if (c != '\n') fail_at("chunk data not followed by CRLF", c, at);
                chunk_state_ = ChunkState::size_first;
                break;
            case ChunkState::trailer_line_start:
            case ChunkState::trailer_name:
            case ChunkState::trailer_value:
            case ChunkState::trailer_lf:
            case ChunkState::final_lf:
                if (++trailer_bytes_ > options_.max_header_size) {
                    fail_now("trailers exceed max_header_size of " +
                             std::to_string(options_.max_header_size) + " bytes");
                }
                if (decode_trailer_byte(c, at)) {
                    ++i;
                    return finish();
                }
                break;
            default:  // the chunk extension states
                if (c != '\r' && ++extension_bytes_ > kMaxChunkExtensionSize) {
                    fail_now("malformed chunked body: chunk extensions longer than " +
                             std::to_string(kMaxChunkExtensionSize) + " bytes at byte " + std::to_string(at));
                }
                decode_extension_byte(c, at);
                break;
        }
        ++i;
    }
    return finish();
}

// long: one byte of RFC 9112's chunk-ext grammar, one case per state of the grammar.
void ResponseParser::decode_extension_byte(unsigned char c, std::uint64_t at) {
    const bool tchar = detail::is_token_char(c);
    // After a whole name or value: CR ends the extensions, ";" opens the next one, BWS goes to after_ws.
    // False for any other byte (the caller names the error).
    auto end_of_part = [&](ChunkState after_ws) {
        if (c == '\r') {
            chunk_state_ = ChunkState::size_lf;
        } else if (c == ';') {
            chunk_state_ = ChunkState::ext_after_semicolon;
        } else if (is_ws(c)) {
            chunk_state_ = after_ws;
        } else {
            return false;
        }
        return true;
    };
    switch (chunk_state_) {
        case ChunkState::ext_before_semicolon:  // BWS seen: only more BWS or ";"
            if (c == ';') {
                chunk_state_ = ChunkState::ext_after_semicolon;
            } else if (!is_ws(c)) {
                fail_at("invalid character in chunk extensions (expected \";\")", c, at);
            }
            return;
        case ChunkState::ext_after_semicolon:
            if (tchar) {
                chunk_state_ = ChunkState::ext_name;
            } else if (!is_ws(c)) {
                fail_at("invalid chunk extension name", c, at);
            }
            return;
        case ChunkState::ext_name:
            if (tchar) return;
            if (c == '=') {
                chunk_state_ = ChunkState::ext_value_start;
            } else if (!end_of_part(ChunkState::ext_name_bws)) {
                fail_at("invalid chunk extension name", c, at);
            }
            return;
        case ChunkState::ext_name_bws:  // after a name and BWS: "=", ";" or more BWS
            if (c == '=') {
                chunk_state_ = ChunkState::ext_value_start;
            } else if (c == ';') {
                chunk_state_ = ChunkState::ext_after_semicolon;
            } else if (!is_ws(c)) {
                fail_at("invalid character in chunk extensions (expected \"=\" or \";\")", c, at);
            }
            return;
        case ChunkState::ext_value_start:
            if (c == '"') {
                chunk_state_ = ChunkState::ext_quoted;
            } else if (tchar) {
                chunk_state_ = ChunkState::ext_token;
            } else if (!is_ws(c)) {
                fail_at("invalid chunk extension value", c, at);
            }
            return;
        case ChunkState::ext_token:
            if (tchar) return;
            if (!end_of_part(ChunkState::ext_before_semicolon))
                fail_at("invalid chunk extension value", c, at);
            return;
        case ChunkState::ext_quoted:
            if (c == '"') {
                chunk_state_ = ChunkState::ext_after_quoted;
            } else if (c == '\\') {
                chunk_state_ = ChunkState::ext_quoted_pair;
            } else if (!is_qdtext(c)) {
                fail_at("invalid character in a quoted chunk extension value", c, at);
            }
            return;
        case ChunkState::ext_quoted_pair:
            if (!is_quoted_pair_char(c)) fail_at("invalid quoted-pair in a chunk extension value", c, at);
            chunk_state_ = ChunkState::ext_quoted;
            return;
        case ChunkState::ext_after_quoted:
            if (!end_of_part(ChunkState::ext_before_semicolon))
                fail_at("invalid character after a quoted chunk extension value", c, at);
            return;
        default:
            return;
    }
}

// One byte of the trailer section; true when it was the section's final LF (the response is complete).
bool ResponseParser::decode_trailer_byte(unsigned char c, std::uint64_t at) {
    switch (chunk_state_) {
        case ChunkState::trailer_line_start:
            if (c == '\r') {
                chunk_state_ = ChunkState::final_lf;
            } else if (detail::is_token_char(c)) {
                trailers_.open_field();
                open_trailer_ = true;
                const char ch = static_cast<char>(c);
                trailers_.append_name(std::string_view(&ch, 1));
                chunk_state_ = ChunkState::trailer_name;
            } else {
                fail_at(is_ws(c) ? "obsolete line folding in trailers" : "invalid trailer field name", c, at);
            }
            return false;
        case ChunkState::trailer_name:
            if (detail::is_token_char(c)) {
                const char ch = static_cast<char>(c);
                trailers_.append_name(std::string_view(&ch, 1));
            } else if (c == ':') {
                chunk_state_ = ChunkState::trailer_value;
            } else {
                fail_at("invalid trailer field name", c, at);
            }
            return false;
        case ChunkState::trailer_value: {
            const std::string_view value = trailers_.last_value();
            if (c == '\r') {
                std::size_t end = value.size();
                while (end != 0 && is_ws(static_cast<unsigned char>(value[end - 1]))) --end;
                trailers_.resize_last_value(end);
                open_trailer_ = false;
                chunk_state_ = ChunkState::trailer_lf;
            } else if (!is_field_char(c)) {
                fail_at("invalid character in a trailer field value", c, at);
            } else if (!(value.empty() && is_ws(c))) {
                const char ch = static_cast<char>(c);
                trailers_.append_value(std::string_view(&ch, 1));
            }
            return false;
        }
        case ChunkState::trailer_lf:
            if (c != '\n') fail_at("expected LF after a trailer field", c, at);
            chunk_state_ = ChunkState::trailer_line_start;
            return false;
        case ChunkState::final_lf:
            if (c != '\n') fail_at("expected LF at the end of the chunked body", c, at);
            state_ = State::done;
            return true;
        default:
            return false;
    }
}

void ResponseParser::finish_eof() {
    check_not_failed();
    switch (state_) {
        case State::done:
        case State::failed:
            return;
        case State::head:
            if (consumed_ == 0) fail_now("connection closed before any response byte was received");
            fail_now("connection closed before the response headers were complete (" +
                     std::to_string(consumed_) + " bytes received)");
        case State::body:
            break;
    }
    if (body_kind_ == BodyKind::until_close) {
        state_ = State::done;
        return;
    }
    if (body_kind_ == BodyKind::length) {
        fail_now("body shorter than Content-Length: got " + std::to_string(body_bytes_) + " of " +
                 std::to_string(*content_length_) + " bytes");
    }
    if (chunk_state_ >= ChunkState::trailer_line_start)
        fail_now("connection closed before the end of the chunked body's trailers");
    fail_now("connection closed inside the chunked body after " + std::to_string(body_bytes_) +
             " body bytes");
}

}  // namespace squall::http

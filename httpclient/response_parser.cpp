#include "squall/httpclient/response_parser.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "squall/httpclient/errors.hpp"

namespace squall::http {

// The head (RFC 9112 4 and 5) is parsed here line by line: the status line, then field lines until the
// empty line. A line that lies whole in the slice given to feed() is parsed where it is; only a line cut
// by the end of a slice is gathered in line_ until its LF arrives (bounded by max_header_size like the
// rest of the head). Each line is scanned once, and checked whole before anything of it is stored: a CR,
// NUL or other control byte anywhere in the head is an error, and every line must end in CRLF (bare LF is
// rejected: a lenient line end is where request smuggling starts). An error is reported only once its
// line is whole, so every split of the same bytes fails the same way. Decisions a recipient may make, made
// here:
//   - status-line = "HTTP/1." DIGIT SP 3DIGIT [ SP reason-phrase ]: a missing reason (with or without its
//     space) is accepted, any other HTTP version is not; codes below 100, and 101 (no upgrade was asked
//     for), are errors.
//   - a field name must be a token with nothing between it and the colon (RFC 9112 5.1); the value is
//     trimmed of OWS; an obsolete line fold (a line starting with SP or HTAB) joins the previous field's
//     value with one space (RFC 9112 5.2 lets a recipient do so).
//   - Content-Length may be a list of equal values or be repeated with an equal value (RFC 9110 8.6);
//     Transfer-Encoding overrides it (RFC 9112 6.3) and the connection is then not reused.
//   - Transfer-Encoding whose final coding is "chunked" frames the body as chunked; any other
//     Transfer-Encoding means the body runs until close.
//   - Connection tokens "close" and "keep-alive" decide persistence with the version (HTTP/1.1 unless
//     close; HTTP/1.0 only with keep-alive and without close).
// The body is framed below the head's code (decode_body): Content-Length countdown, close-delimited, and
// chunked per RFC 9112 7.1 with every byte checked.

namespace {
// Room reserved at a response head's first field: its names and values, and its fields (nginx sends 8,
// most servers 5 to 15).
constexpr std::size_t kTypicalHeadBytes = 512, kTypicalFields = 16;

bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}
bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// Whether the last non-empty element of a comma-separated list is `token` (ASCII case-insensitive).
bool last_element_is(std::string_view list, std::string_view token) noexcept {
    while (true) {
        const auto comma = list.rfind(',');
        const auto element =
            detail::trim_ows(comma == std::string_view::npos ? list : list.substr(comma + 1));
        if (!element.empty()) return iequals(element, token);
        if (comma == std::string_view::npos) return false;
        list = list.substr(0, comma);
    }
}

std::string shown_byte(unsigned char c) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "0x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
    return out;
}
}  // namespace

ResponseParser::ResponseParser(ResponseParserOptions options, ResponseParserCallbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)) {}

ResponseParser::~ResponseParser() = default;

void ResponseParser::start_message() {
    body_kind_ = BodyKind::none;
    chunk_state_ = ChunkState::size_first;
    code_ = 0;
    reason_.clear();
    http_major_ = http_minor_ = 0;
    headers_.clear();
    status_seen_ = false;
    field_open_ = false;
    announced_length_.reset();
    has_transfer_encoding_ = transfer_chunked_ = connection_close_ = connection_keep_alive_ = false;
    keep_alive_field_ = false;
    content_encoding_field_ = kNoField;
}

void ResponseParser::fail_now(std::string message) {
    if (open_trailer_) trailers_.pop_back();
    open_trailer_ = false;
    state_ = State::failed;
    error_ = std::move(message);
    throw ProtocolError(error_);
}

void ResponseParser::fail_head(const char* what, std::uint64_t offset) {
    fail_now(std::string("malformed HTTP response: ") + what + " at byte " + std::to_string(offset));
}

inline void ResponseParser::close_field() {
    if (!field_open_) return;
    field_open_ = false;
    if (noted_field_) note_field();
}

void ResponseParser::check_not_failed() const {
    if (state_ == State::failed) throw ProtocolError(error_);
}

template <typename Callback, typename... Args>
void ResponseParser::call(const Callback& callback, Args&&... args) {
    try {
        callback(std::forward<Args>(args)...);
    } catch (...) {
        state_ = State::failed;
        error_ = "a parser callback threw";
        throw;
    }
}

std::size_t ResponseParser::feed(std::string_view data) {
    check_not_failed();
    if (state_ == State::done) {
        if (!data.empty()) keep_alive_ = false;
        return 0;
    }
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
        // The head, a line at a time. Only the bytes left under max_header_size are looked at, so the
        // limit holds at the exact byte whatever the split (a head may end at the limit's last byte).
        const std::uint64_t used_by_head = consumed_ - head_start_;
        if (used_by_head >= options_.max_header_size)
            fail_now("response headers exceed max_header_size of " +
                     std::to_string(options_.max_header_size) + " bytes");
        const char* begin = data.data() + pos;
        const std::size_t window = static_cast<std::size_t>(
            std::min<std::uint64_t>(data.size() - pos, options_.max_header_size - used_by_head));
        std::size_t took = 0;
        if (line_.empty() && (took = parse_head_line(begin, window, consumed_)) != 0) {
            // The usual case: the lines are parsed where they lie, one after another while the head lasts.
            std::size_t used = 0;
            do {
                used += took;
                consumed_ += took;
            } while (state_ == State::head && used < window &&
                     (took = parse_head_line(begin + used, window - used, consumed_)) != 0);
            pos += used;
        } else {
            // The line does not end in this slice (or began in an earlier one): gather it until its LF.
            const auto* lf = static_cast<const char*>(std::memchr(begin, '\n', window));
            took = lf == nullptr ? window : static_cast<std::size_t>(lf - begin) + 1;
            line_.append(begin, took);
            consumed_ += took;
            pos += took;
            if (lf == nullptr) continue;
            parse_head_line(line_.data(), line_.size(),
                            consumed_ - line_.size());  // whole: takes it or throws
            line_.clear();
        }
        if (state_ == State::done) {
            if (pos < data.size()) keep_alive_ = false;  // stray bytes after the response
            return pos;
        }
    }
    return pos;
}

namespace {
// Bytes of a field value or reason phrase (RFC 9110 5.5): HTAB, SP, VCHAR, obs-text.
constexpr std::array<unsigned char, 256> kValueChars = [] {
    std::array<unsigned char, 256> t{};
    t['\t'] = 1;
    for (int c = 0x20; c < 0x7f; ++c) t[c] = 1;
    for (int c = 0x80; c < 0x100; ++c) t[c] = 1;
    return t;
}();

// The index of the first byte in p[k, n) that is not a value character (normally the CR ending the line),
// or n. SSE2 looks at 16 bytes per step while 16 remain: a control character other than HTAB, or DEL.
std::size_t value_end(const char* p, std::size_t k, std::size_t n) noexcept {
#if defined(__SSE2__)
    const __m128i tab = _mm_set1_epi8('\t'), del = _mm_set1_epi8(0x7f), last_control = _mm_set1_epi8(0x1f);
    for (; k + 16 <= n; k += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k));
        const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, last_control), last_control);  // v <= 0x1f
        const __m128i bad =
            _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, tab), control), _mm_cmpeq_epi8(v, del));
        if (const int mask = _mm_movemask_epi8(bad); mask != 0)
            return k + static_cast<unsigned>(__builtin_ctz(mask));
    }
#endif
    while (k < n && kValueChars[static_cast<unsigned char>(p[k])] != 0) ++k;
    return k;
}

// ASCII case-insensitive equality of a header name (token characters only) with a lowercase name made of
// letters, digits and '-': OR-ing 0x20 folds case, and no other token character folds onto one of those.
bool is_name(std::string_view name, std::string_view lowercase) noexcept {
    if (name.size() != lowercase.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if ((static_cast<unsigned char>(name[i]) | 0x20) != static_cast<unsigned char>(lowercase[i]))
            return false;
    }
    return true;
}
}  // namespace

std::size_t ResponseParser::reject_line(const char* p, std::size_t n, std::size_t k, std::uint64_t at,
                                        const char* what) {
    if (std::memchr(p + k, '\n', n - k) == nullptr) return 0;  // not whole yet: decide when it is
    if (p[k] == '\n') {
        what = "line ended by a bare LF (CRLF expected)";
    } else if (p[k] == '\r' && k + 1 < n && p[k + 1] != '\n') {
        what = "CR not followed by LF";
    }
    const std::string message = std::string(what) + ", got " + shown_byte(static_cast<unsigned char>(p[k]));
    fail_head(message.c_str(), at + k);
}

// long: the status line, a field line, a folded line and the empty line, each checked byte by byte in one
// pass before anything is stored.
std::size_t ResponseParser::parse_head_line(const char* p, std::size_t n, std::uint64_t at) {
    // A line ends at k when CRLF is there; its length is then k + 2.
    const auto crlf_at = [&](std::size_t k) { return k + 1 < n && p[k] == '\r' && p[k + 1] == '\n'; };
    const auto trimmed_end = [&](std::size_t from, std::size_t to) {
        while (to > from && is_ows(p[to - 1])) --to;
        return to;
    };
    std::size_t k = 0;
    if (!status_seen_) {
        // status-line = "HTTP/1." DIGIT SP 3DIGIT [ SP reason-phrase ] CRLF
        static constexpr std::string_view kVersion = "HTTP/1.";
        while (k < kVersion.size() && k < n && p[k] == kVersion[k]) ++k;
        if (k < kVersion.size()) return reject_line(p, n, k, at, "invalid HTTP version (HTTP/1.x expected)");
        if (k >= n || !is_digit(p[k]))
            return reject_line(p, n, k, at, "invalid HTTP version (HTTP/1.x expected)");
        if (++k >= n || p[k] != ' ')
            return reject_line(p, n, k, at, "expected a space after the HTTP version");
        int code = 0;
        for (++k; k < 12; ++k) {
            if (k >= n || !is_digit(p[k]))
                return reject_line(p, n, k, at, "invalid status code (3 digits expected)");
            code = code * 10 + (p[k] - '0');
        }
        if (k < n && p[k] != ' ' && p[k] != '\r')
            return reject_line(p, n, k, at, "invalid status code (3 digits expected)");
        std::size_t reason = k;
        if (k < n && p[k] == ' ') reason = ++k;
        k = value_end(p, k, n);
        if (!crlf_at(k)) return reject_line(p, n, k, at, "invalid character in the status line");
        if (code < 100) fail_now("malformed HTTP response: invalid status code " + std::to_string(code));
        if (code == 101) fail_now("unexpected 101 Switching Protocols (no upgrade was requested)");
        code_ = code;
        http_major_ = 1;
        http_minor_ = p[7] - '0';
        reason_.assign(p + reason, k - reason);
        status_seen_ = true;
        return k + 2;
    }
    if (crlf_at(0)) {
        end_of_head();
        return 2;
    }
    if (n != 0 && is_ows(p[0])) {
        // An obsolete line fold: the previous field's value goes on, joined with one space.
        while (k < n && is_ows(p[k])) ++k;
        const std::size_t from = k;
        k = value_end(p, k, n);
        if (!crlf_at(k)) {
            // A folded field cut short by a bad byte is not a field.
            if (field_open_ && std::memchr(p + k, '\n', n - k) != nullptr) {
                headers_.pop_back();
                field_open_ = false;
            }
            return reject_line(p, n, k, at, "invalid character in a folded header value");
        }
        if (!field_open_) fail_head("obsolete line folding with no field before it", at);
        const std::size_t to = trimmed_end(from, k);
        if (to != from) {
            if (!headers_.last_value().empty()) headers_.append_value(" ");
            headers_.append_value(std::string_view(p + from, to - from));
        }
        return k + 2;
    }
    // field-line = field-name ":" OWS field-value OWS CRLF
    const auto token = [p](std::size_t i) { return detail::kTokenChars[static_cast<unsigned char>(p[i])]; };
    while (k + 4 <= n && (token(k) & token(k + 1) & token(k + 2) & token(k + 3)) != 0) k += 4;
    while (k < n && token(k) != 0) ++k;
    if (k >= n || p[k] != ':') {
        if (k < n && (p[k] == '\r' || p[k] == '\n'))
            return reject_line(p, n, k, at, "header line without a colon");
        return reject_line(p, n, k, at, "invalid character in a header name");
    }
    if (k == 0) return reject_line(p, n, 0, at, "empty header name");
    const std::size_t name_len = k++;
    while (k < n && is_ows(p[k])) ++k;
    const std::size_t from = k;
    k = value_end(p, k, n);
    if (!crlf_at(k)) return reject_line(p, n, k, at, "invalid character in a header value");
    close_field();
    if (headers_.empty()) headers_.reserve(kTypicalHeadBytes, kTypicalFields);  // one block per head
    headers_.add_line(std::string_view(p, trimmed_end(from, k)), name_len, from);
    field_open_ = true;
    // Only these lengths can be a field close_field takes note of (Connection, Keep-Alive,
    // Content-Length, Content-Encoding, Transfer-Encoding).
    noted_field_ = name_len == 10 || name_len == 14 || name_len == 16 || name_len == 17;
    return k + 2;
}

void ResponseParser::note_field() {
    const auto [name, value] = headers_.field(headers_.size() - 1);
    switch (name.size()) {
        case 10:
            if (is_name(name, "connection")) {
                std::string_view rest = value;
                while (!rest.empty()) {
                    const auto comma = rest.find(',');
                    const auto token = detail::trim_ows(rest.substr(0, comma));
                    if (iequals(token, "close")) connection_close_ = true;
                    if (iequals(token, "keep-alive")) connection_keep_alive_ = true;
                    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
                }
            } else if (is_name(name, "keep-alive")) {
                keep_alive_field_ = true;
            }
            break;
        case 14:
            if (is_name(name, "content-length")) parse_content_length(value);
            break;
        case 16:
            if (content_encoding_field_ == kNoField && is_name(name, "content-encoding"))
                content_encoding_field_ = static_cast<std::uint32_t>(headers_.size() - 1);
            break;
        case 17:
            if (is_name(name, "transfer-encoding")) {
                has_transfer_encoding_ = true;
                transfer_chunked_ = last_element_is(value, "chunked");
            }
            break;
        default:
            break;
    }
}

void ResponseParser::parse_content_length(std::string_view text) {
    // The usual value: one number (the field's value is already trimmed).
    if (!text.empty() && text.size() <= 19) {
        std::uint64_t n = 0;
        std::size_t i = 0;
        while (i < text.size() && is_digit(text[i])) n = n * 10 + static_cast<std::uint64_t>(text[i++] - '0');
        if (i == text.size() && (!announced_length_ || *announced_length_ == n)) {
            announced_length_ = n;
            return;
        }
    }
    // A comma-separated list of equal decimal values (RFC 9110 8.6); anything else is an error.
    while (true) {
        const auto comma = text.find(',');
        const auto item = detail::trim_ows(text.substr(0, comma));
        if (item.empty()) fail_now("invalid Content-Length value (empty element)");
        std::uint64_t n = 0;
        for (char c : item) {
            if (!is_digit(c)) fail_now("invalid character in Content-Length value");
            const auto digit = static_cast<std::uint64_t>(c - '0');
            if (n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
                fail_now("Content-Length overflow");
            n = n * 10 + digit;
        }
        if (announced_length_ && *announced_length_ != n) {
            fail_now("conflicting Content-Length values " + std::to_string(*announced_length_) + " and " +
                     std::to_string(n));
        }
        announced_length_ = n;
        if (comma == std::string_view::npos) return;
        text.remove_prefix(comma + 1);
    }
}

void ResponseParser::end_of_head() {
    close_field();
    if (code_ < 200) {  // 1xx (not 101): reported, then the final response follows
        if (callbacks_.on_interim) call(callbacks_.on_interim, code_, std::as_const(headers_));
        start_message();
        return;
    }
    const std::string_view method = options_.method;
    const bool connect_ok = code_ / 100 == 2 && method == "CONNECT";
    const bool no_body = method == "HEAD" || code_ == 204 || code_ == 304 || connect_ok;
    // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, and such a message must not be followed by
    // another on the same connection (it may be an attempt at response splitting).
    const bool length_and_encoding = has_transfer_encoding_ && announced_length_.has_value();
    content_length_.reset();
    if (no_body) {
        body_kind_ = BodyKind::none;
    } else if (transfer_chunked_) {
        chunked_ = true;
        body_kind_ = BodyKind::chunked;
    } else if (has_transfer_encoding_) {
        close_delimited_ = true;  // chunked is not the final coding: read until close
        body_kind_ = BodyKind::until_close;
    } else if (announced_length_) {
        if (*announced_length_ > options_.max_body_size) {
            fail_now("Content-Length " + std::to_string(*announced_length_) + " exceeds max_body_size of " +
                     std::to_string(options_.max_body_size) + " bytes");
        }
        content_length_ = announced_length_;
        body_kind_ = *announced_length_ == 0 ? BodyKind::none : BodyKind::length;
        remaining_ = *announced_length_;
    } else {
        close_delimited_ = true;
        body_kind_ = BodyKind::until_close;
    }
    const bool persistent =
        http_minor_ > 0 ? !connection_close_ : connection_keep_alive_ && !connection_close_;
    keep_alive_ = persistent && !close_delimited_ && !length_and_encoding && !connect_ok;
    state_ = State::body;
    if (callbacks_.on_headers) call(callbacks_.on_headers, std::as_const(*this));
    if (body_kind_ == BodyKind::none) state_ = State::done;
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

}  // namespace

void ResponseParser::deliver(const char* at, std::size_t n) {
    if (n > options_.max_body_size - body_bytes_)
        fail_now("body exceeds max_body_size of " + std::to_string(options_.max_body_size) + " bytes");
    body_bytes_ += n;
    if (!callbacks_.on_body) {
        body_.append(at, n);
        return;
    }
    call(callbacks_.on_body, std::span<const char>(at, n));
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

#include "squall/httpclient/response_parser.hpp"

#include <llhttp.h>

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
// Headers of a typical response (nginx sends 8, most servers 5 to 15).
constexpr std::size_t kTypicalFields = 16;

bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}
}  // namespace

// llhttp lenient flags: none is enabled, deliberately.
//   lenient_headers            off: it disables header value validation, which is what stops CR/NUL
//                              smuggling; bare-LF header lines are therefore rejected (tested).
//   lenient_chunked_length     off and not needed: Content-Length is handled here (see below), so llhttp
//                              never sees Content-Length together with Transfer-Encoding.
//   lenient_keep_alive         off and not needed: the parser pauses after the final response and never
//                              lets llhttp read a second message.
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
struct ResponseParser::Impl : ::squall::detail::FrameAllocated {
    llhttp_t parser{};
    ResponseParser* owner = nullptr;

    // Maps pointers in the current slice to byte offsets in the response stream.
    const char* slice_begin = nullptr;
    std::uint64_t slice_offset = 0;

    // Header (or trailer) field being assembled from llhttp's pieces, in place at the end of `open_in`
    // (headers_ or trailers_); null between fields. A field left open by an error is dropped.
    HTTPHeaders::Field* open = nullptr;
    HTTPHeaders* open_in = nullptr;
    bool value_has_piece = false;
    bool strip_leading_ows = true;
    std::uint64_t value_end_offset = 0;

    std::uint64_t head_start = 0;  // offset where the current head limit started counting
    bool in_trailers = false;
    bool trailer_start_known = false;
    bool interim = false;  // the message being parsed is a 1xx response
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

    int check_limit(const char* end) {
        if (in_trailers) {
            if (!trailer_start_known) return 0;
        }
        std::uint64_t used = offset_of(end) - head_start;
        if (used > owner->options_.max_header_size) {
            return fail(std::string(in_trailers ? "trailers" : "response headers") +
                        " exceed max_header_size of " + std::to_string(owner->options_.max_header_size) +
                        " bytes");
        }
        return 0;
    }

    void drop_open_field() noexcept {
        if (open != nullptr) open_in->pop_back();
        open = nullptr;
        open_in = nullptr;
    }

    void reset_message() {
        drop_open_field();
        value_has_piece = false;
        strip_leading_ows = true;
        in_trailers = false;
        trailer_start_known = false;
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
        if (self.check_limit(at + len) != 0) return -1;
        self.owner->reason_.append(at, len);
        return 0;
    }

    static int on_header_field(llhttp_t* p, const char* at, std::size_t len) {
        Impl& self = of(p);
        if (self.in_trailers && !self.trailer_start_known) {
            self.head_start = self.offset_of(at);
            self.trailer_start_known = true;
        }
        if (self.check_limit(at + len) != 0) return -1;
        if (self.open == nullptr) {
            HTTPHeaders& target = self.in_trailers ? self.owner->trailers_ : self.owner->headers_;
            if (target.empty()) target.reserve(kTypicalFields);  // one allocation instead of a growth series
            self.open = &target.add_empty();
            self.open_in = &target;
        }
        self.open->first.append(at, len);
        return 0;
    }

    static int on_header_field_complete(llhttp_t* p) {
        if (p->header_state == kHeaderStateContentLength) p->header_state = kHeaderStateGeneral;
        Impl& self = of(p);
        // llhttp 8.1 (loose mode) accepts spaces and empty names; RFC 9112 5.1 requires a token with no
        // whitespace before the colon, and a sloppy name is how header smuggling starts.
        if (self.open == nullptr || !detail::is_token(self.open->first)) {
            std::string shown = self.open == nullptr ? std::string() : self.open->first.substr(0, 60);
            for (char& c : shown) {
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
            }
            return self.fail("malformed HTTP response: invalid header name \"" + shown + "\"");
        }
        return 0;
    }

    static int on_header_value(llhttp_t* p, const char* at, std::size_t len) {
        Impl& self = of(p);
        if (self.check_limit(at + len) != 0) return -1;
        if (self.open == nullptr) return self.fail("malformed HTTP response: header value without a name");
        std::string& value = self.open->second;
        std::uint64_t start = self.offset_of(at);
        // llhttp restarts the value span after an obsolete line fold, dropping the CRLF: a piece that does
        // not start where the previous one ended follows a fold. Join folded lines with one space.
        if (self.value_has_piece && start != self.value_end_offset) {
            while (!value.empty() && is_ows(value.back())) value.pop_back();
            if (!value.empty()) value += ' ';
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
        value.append(at, len);
        return 0;
    }

    static int on_header_value_complete(llhttp_t* p) {
        Impl& self = of(p);
        if (self.open == nullptr) return self.fail("malformed HTTP response: header value without a name");
        std::string& value = self.open->second;
        std::size_t end = value.size();
        while (end != 0 && is_ows(value[end - 1])) --end;
        if (end != value.size()) value.resize(end);
        int rc = 0;
        if (!self.in_trailers && iequals(self.open->first, "content-length"))
            rc = self.parse_content_length(value);
        self.open = nullptr;
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
        int rc = 0;
        if (no_body) {
            rc = 1;
        } else if (chunked) {
            r.chunked_ = true;
        } else if (has_te) {
            r.close_delimited_ = true;  // chunked is not the final coding: read until close
        } else if (self.announced_length) {
            if (*self.announced_length > r.options_.max_body_size) {
                return self.fail("Content-Length " + std::to_string(*self.announced_length) +
                                 " exceeds max_body_size of " + std::to_string(r.options_.max_body_size) +
                                 " bytes");
            }
            r.content_length_ = self.announced_length;
            p->flags |= F_CONTENT_LENGTH;
            p->content_length = *self.announced_length;
        } else {
            r.close_delimited_ = true;
        }
        r.state_ = State::body;
        if (r.callbacks_.on_headers) {
            try {
                r.callbacks_.on_headers(r);
            } catch (...) {
                self.callback_exception = std::current_exception();
                return -1;
            }
        }
        return rc;
    }

    static int on_body(llhttp_t* p, const char* at, std::size_t len) {
        Impl& self = of(p);
        ResponseParser& r = *self.owner;
        if (len > r.options_.max_body_size - r.body_bytes_) {
            return self.fail("body exceeds max_body_size of " + std::to_string(r.options_.max_body_size) +
                             " bytes");
        }
        r.body_bytes_ += len;
        if (r.callbacks_.on_body) {
            try {
                r.callbacks_.on_body(std::span<const char>(at, len));
            } catch (...) {
                self.callback_exception = std::current_exception();
                return -1;
            }
        } else {
            r.body_.append(at, len);
        }
        return 0;
    }

    static int on_chunk_header(llhttp_t* p) {
        Impl& self = of(p);
        ResponseParser& r = *self.owner;
        if (p->content_length == 0) {
            self.in_trailers = true;  // the last chunk: trailers (if any) follow
            return 0;
        }
        if (p->content_length > r.options_.max_body_size - r.body_bytes_) {
            return self.fail("chunk of " + std::to_string(p->content_length) +
                             " bytes exceeds max_body_size of " + std::to_string(r.options_.max_body_size) +
                             " bytes");
        }
        return 0;
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
        r.keep_alive_ = llhttp_should_keep_alive(p) != 0 && !self.cl_te_conflict && !self.tunnel;
        r.state_ = State::done;
        return HPE_PAUSED;  // stop at the end of this response: later bytes are not ours
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
            init.on_body = on_body;
            init.on_chunk_header = on_chunk_header;
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
    code_ = 0;
    reason_.clear();
    http_major_ = http_minor_ = 0;
    headers_.clear();
}

void ResponseParser::fail_now(std::string message) {
    impl_->drop_open_field();
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
        const char* begin = data.data() + pos;
        const std::size_t len = data.size() - pos;
        impl.slice_begin = begin;
        impl.slice_offset = consumed_;
        llhttp_errno_t err = llhttp_execute(&impl.parser, begin, len);
        if (err == HPE_OK) {
            consumed_ += len;
            pos = data.size();
            break;
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
            // A 1xx response ended: parse what follows as a new response. The head limit keeps counting.
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
        // Our own checks name what was wrong; their position is not reported because a limit is checked both
        // inside llhttp's callbacks and at slice ends, so it would depend on how the bytes were split.
        if (!impl.error.empty()) fail_now(impl.error);
        std::string where = " at byte " + std::to_string(consumed_ + used);
        if (err == HPE_PAUSED_UPGRADE) fail_now("unexpected protocol upgrade" + where);
        const char* reason = llhttp_get_error_reason(&impl.parser);
        fail_now(std::string("malformed HTTP response: ") + (reason ? reason : "unknown error") + " (" +
                 llhttp_errno_name(err) + ")" + where);
    }
    if (state_ == State::head && consumed_ - impl.head_start > options_.max_header_size) {
        fail_now("response headers exceed max_header_size of " + std::to_string(options_.max_header_size) +
                 " bytes");
    }
    if (impl.in_trailers && impl.trailer_start_known &&
        consumed_ - impl.head_start > options_.max_header_size) {
        fail_now("trailers exceed max_header_size of " + std::to_string(options_.max_header_size) + " bytes");
    }
    return pos;
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
    if (close_delimited_) {
        impl_->slice_begin = nullptr;
        llhttp_errno_t err = llhttp_finish(&impl_->parser);
        if (state_ == State::done) return;
        if (impl_->callback_exception) {
            state_ = State::failed;
            impl_->drop_open_field();
            std::rethrow_exception(std::exchange(impl_->callback_exception, nullptr));
        }
        fail_now(std::string("connection closed in a close-delimited body: ") + llhttp_errno_name(err));
    }
    if (content_length_) {
        fail_now("body shorter than Content-Length: got " + std::to_string(body_bytes_) + " of " +
                 std::to_string(*content_length_) + " bytes");
    }
    if (impl_->in_trailers) fail_now("connection closed before the end of the chunked body's trailers");
    fail_now("connection closed inside the chunked body after " + std::to_string(body_bytes_) +
             " body bytes");
}

}  // namespace squall::http

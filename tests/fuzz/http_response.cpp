// libFuzzer target: httpclient's ResponseParser on arbitrary server bytes.
//
// Input: byte 0 picks the request method (GET or HEAD) and a small or default max_header_size /
// max_body_size; bytes 1-2 pick where the response is split; the rest is the response. The response is
// parsed twice, in one feed() and in two pieces, each followed by finish_eof() when it is not complete.
// Oracles: only squall::Error escapes; feed() consumes everything unless the response completed; both
// parses agree (outcome, status, headers, body, trailers, keep-alive), since the cut is invisible to HTTP.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "squall/coro/errors.hpp"
#include "squall/httpclient/response_parser.hpp"

namespace {

using squall::http::HTTPHeaders;
using squall::http::ResponseParser;
using squall::http::ResponseParserOptions;

struct Outcome {
    bool failed = false;
    std::string error;
    bool complete = false;
    int code = 0;
    std::string reason;
    HTTPHeaders headers;
    HTTPHeaders trailers;
    std::string body;
    uint64_t body_bytes = 0;
    bool keep_alive = false;
    uint64_t consumed = 0;
};

bool same_fields(const HTTPHeaders& a, const HTTPHeaders& b) {
    if (a.size() != b.size()) return false;
    auto it = b.begin();
    for (const auto& field : a) {
        if (field != *it++) return false;
    }
    return true;
}

// Feeds `pieces` in order, as a connection would, then reports EOF if the response is still open.
template <size_t N>
Outcome parse(const ResponseParserOptions& options, const std::string_view (&pieces)[N], bool streamed_body) {
    Outcome out;
    std::string streamed;
    squall::http::ResponseParserCallbacks callbacks;
    if (streamed_body) {
        callbacks.on_body = [&](std::span<const char> piece) { streamed.append(piece.data(), piece.size()); };
    }
    ResponseParser parser(options, std::move(callbacks));
    try {
        for (std::string_view piece : pieces) {
            size_t used = parser.feed(piece);
            SQUALL_FUZZ_CHECK(used <= piece.size());
            if (used < piece.size()) SQUALL_FUZZ_CHECK(parser.complete());
        }
        if (!parser.complete()) parser.finish_eof();
        SQUALL_FUZZ_CHECK(parser.complete());
    } catch (const squall::Error& e) {
        out.failed = true;
        out.error = e.what();
        SQUALL_FUZZ_CHECK(parser.state() == ResponseParser::State::failed);
        // A failed parser keeps failing with a typed error.
        bool threw = false;
        try {
            parser.feed("x");
        } catch (const squall::Error&) {
            threw = true;
        }
        SQUALL_FUZZ_CHECK(threw);
        return out;
    }
    out.complete = parser.complete();
    out.code = parser.code();
    out.reason = parser.reason();
    out.headers = parser.headers();
    out.trailers = parser.trailers();
    out.body = streamed_body ? streamed : parser.body();
    out.body_bytes = parser.body_bytes();
    out.keep_alive = parser.keep_alive();
    out.consumed = parser.bytes_consumed();
    SQUALL_FUZZ_CHECK(out.body.size() == out.body_bytes);
    SQUALL_FUZZ_CHECK(out.body_bytes <= options.max_body_size);
    // A complete Content-Length body has exactly that length (HEAD, 204 and 304 announce none).
    if (parser.content_length() && options.method != "HEAD") {
        SQUALL_FUZZ_CHECK(out.body_bytes == *parser.content_length());
    }
    if (options.method == "HEAD") SQUALL_FUZZ_CHECK(out.body.empty());
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    squall::fuzz::FuzzInput input(data, size);
    uint8_t mode = input.u8();
    uint16_t split_seed = input.u16();
    std::string_view response = input.rest();

    ResponseParserOptions options;
    options.method = (mode & 1) ? "HEAD" : "GET";
    if (mode & 2) {
        options.max_header_size = 16 + (mode >> 2) * 4;
        options.max_body_size = (mode >> 2) * 8;
    }
    const bool streamed_body = (mode & 0x80) != 0;
    size_t split = response.empty() ? 0 : split_seed % (response.size() + 1);

    const std::string_view whole[] = {response};
    const std::string_view halves[] = {response.substr(0, split), response.substr(split)};
    Outcome one = parse(options, whole, streamed_body);
    Outcome two = parse(options, halves, !streamed_body);

    SQUALL_FUZZ_CHECK(one.failed == two.failed);
    if (!one.failed) {
        SQUALL_FUZZ_CHECK(one.code == two.code);
        SQUALL_FUZZ_CHECK(one.reason == two.reason);
        SQUALL_FUZZ_CHECK(same_fields(one.headers, two.headers));
        SQUALL_FUZZ_CHECK(same_fields(one.trailers, two.trailers));
        SQUALL_FUZZ_CHECK(one.body == two.body);
        SQUALL_FUZZ_CHECK(one.keep_alive == two.keep_alive);
        SQUALL_FUZZ_CHECK(one.consumed == two.consumed);
    }
    return 0;
}

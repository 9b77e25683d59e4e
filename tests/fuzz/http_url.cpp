// libFuzzer target: httpclient's URL::parse, resolve() (redirect Location handling) and dot-segment
// removal on arbitrary text.
//
// Input: the base URL, a NUL byte, then the reference (a Location value); without a NUL the whole input is
// the base and "x/../y?z" the reference.
// Oracles: only squall::Error escapes; a parsed URL survives to_string() and parse() unchanged; the parts
// that go on the wire (request target, Host header, host:port) hold no control characters or spaces and
// the target starts with '/'; remove_dot_segments leaves no "." or ".." segment behind.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "squall/coro/errors.hpp"
#include "squall/httpclient/url.hpp"

namespace {

using squall::http::URL;

bool has_ctl_or_space(std::string_view s) {
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) return true;
    }
    return false;
}

bool has_dot_segment(std::string_view path) {
    size_t start = 0;
    while (start <= path.size()) {
        size_t slash = path.find('/', start);
        std::string_view segment =
            path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        // A leading empty segment before the first '/' is not a dot segment.
        if (segment == "." || segment == "..") return true;
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return false;
}

void check_url(const URL& url) {
    SQUALL_FUZZ_CHECK(url.scheme == "http" || url.scheme == "https");
    SQUALL_FUZZ_CHECK(!url.host.empty());
    SQUALL_FUZZ_CHECK(!url.path.empty() && url.path.front() == '/');
    std::string target = url.request_target();
    SQUALL_FUZZ_CHECK(!target.empty() && target.front() == '/');
    SQUALL_FUZZ_CHECK(!has_ctl_or_space(target));
    SQUALL_FUZZ_CHECK(!has_ctl_or_space(url.host_header()));
    SQUALL_FUZZ_CHECK(!has_ctl_or_space(url.host_port()));
    SQUALL_FUZZ_CHECK(target.find('#') == std::string::npos);
    std::string text = url.to_string();
    URL again = URL::parse(text);  // must not throw: to_string() writes a valid URL
    SQUALL_FUZZ_CHECK(again == url);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string_view base_text = text;
    std::string_view reference = "x/../y?z";
    if (auto nul = text.find('\0'); nul != std::string_view::npos) {
        base_text = text.substr(0, nul);
        reference = text.substr(nul + 1);
    }

    std::string cleaned = squall::http::detail::remove_dot_segments(base_text);
    if (!base_text.empty() && base_text.front() == '/') SQUALL_FUZZ_CHECK(!has_dot_segment(cleaned));
    (void)squall::http::detail::percent_decode(reference);

    URL base;
    try {
        base = URL::parse(base_text);
    } catch (const squall::Error&) {
        return 0;
    }
    check_url(base);
    try {
        URL next = squall::http::resolve(base, reference);
        check_url(next);
    } catch (const squall::Error&) {
    }
    return 0;
}

#include "tests/support/http_test_request.hpp"

#include <cctype>
#include <cstdint>
#include <limits>

#include "squall/httpclient/status.hpp"

namespace squall::testing::detail {

namespace {

bool is_token_char(unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Parses "name: value" lines (CRLF-separated, no final empty line) into `out`.
bool parse_header_lines(std::string_view block, HeaderList& out) {
    while (!block.empty()) {
        auto eol = block.find("\r\n");
        std::string_view line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 2);
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return false;
        std::string_view name = line.substr(0, colon);
        for (char c : name)
            if (!is_token_char(static_cast<unsigned char>(c))) return false;
        std::string_view value = trim(line.substr(colon + 1));
        for (char c : value)
            if (c == '\r' || c == '\n' || c == '\0') return false;
        out.emplace_back(std::string(name), std::string(value));
    }
    return true;
}

// Reads until `buf` holds "\r\n" at or after `from`; returns its position or npos on EOF / limit.
Task<std::size_t> read_line_end(Socket& sock, std::string& buf, std::size_t from, std::size_t max,
                                ReadStatus& status) {
    for (;;) {
        auto pos = buf.find("\r\n", from);
        if (pos != std::string::npos) co_return pos;
        if (buf.size() - from > max) {
            status = ReadStatus::too_large;
            co_return std::string::npos;
        }
        if (co_await sock.read_some(buf) <= 0) {
            status = ReadStatus::eof;
            co_return std::string::npos;
        }
    }
}

bool is_chunked(const TestRequest& req) {
    bool chunked = false;
    for (const auto& [name, value] : req.headers)
        if (iequals(name, "Transfer-Encoding")) {
            std::string_view v = value;
            auto comma = v.rfind(',');
            chunked = iequals(trim(comma == std::string_view::npos ? v : v.substr(comma + 1)), "chunked");
        }
    return chunked;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

bool parse_content_length(std::string_view s, std::uint64_t& out) {
    s = trim(s);
    if (s.empty() || s.size() > 18) return false;
    out = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
}

Task<ReadStatus> read_request_head(Socket& sock, std::string& buf, TestRequest& req, std::size_t max_size) {
    std::size_t end;
    std::size_t scanned = 0;
    while ((end = buf.find("\r\n\r\n", scanned)) == std::string::npos) {
        if (buf.size() > max_size) co_return ReadStatus::too_large;
        scanned = buf.size() >= 3 ? buf.size() - 3 : 0;
        long n = co_await sock.read_some(buf);
        if (n <= 0) co_return ReadStatus::eof;
    }
    if (end > max_size) co_return ReadStatus::too_large;
    std::string_view head(buf.data(), end);
    auto eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);

    auto sp1 = line.find(' ');
    auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        co_return ReadStatus::bad;
    req.method = std::string(line.substr(0, sp1));
    req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    req.version = std::string(line.substr(sp2 + 1));
    if (req.method.empty() || req.target.empty() || (req.version != "HTTP/1.1" && req.version != "HTTP/1.0"))
        co_return ReadStatus::bad;
    for (char c : req.method)
        if (!is_token_char(static_cast<unsigned char>(c))) co_return ReadStatus::bad;
    if (!parse_header_lines(rest, req.headers)) co_return ReadStatus::bad;

    std::string_view t = req.target;
    if (t.starts_with("http://") || t.starts_with("https://")) {
        auto slash = t.find('/', t.find("//") + 2);
        t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
    }
    auto q = t.find('?');
    req.path = std::string(t.substr(0, q));
    req.query = q == std::string_view::npos ? std::string() : std::string(t.substr(q + 1));
    buf.erase(0, end + 4);
    co_return ReadStatus::ok;
}

bool request_has_body(const TestRequest& req, bool& valid) {
    valid = true;
    if (is_chunked(req)) return true;
    std::optional<std::uint64_t> length;
    for (const auto& [name, value] : req.headers) {
        if (!iequals(name, "Content-Length")) continue;
        std::uint64_t v;
        if (!parse_content_length(value, v) || (length && *length != v)) {
            valid = false;
            return false;
        }
        length = v;
    }
    if (req.header("Transfer-Encoding")) valid = false;  // a coding other than chunked last: unframed
    return length && *length > 0;
}

Task<ReadStatus> read_request_body(Socket& sock, std::string& buf, TestRequest& req, std::size_t max_size) {
    bool valid;
    if (!request_has_body(req, valid)) co_return valid ? ReadStatus::ok : ReadStatus::bad;
    if (!is_chunked(req)) {
        std::uint64_t n = 0;
        parse_content_length(*req.header("Content-Length"), n);
        if (n > max_size) co_return ReadStatus::too_large;
        while (buf.size() < n)
            if (co_await sock.read_some(buf, n - buf.size()) <= 0) co_return ReadStatus::eof;
        req.body.assign(buf, 0, n);
        buf.erase(0, n);
        co_return ReadStatus::ok;
    }
    req.chunked = true;
    for (;;) {
        ReadStatus status = ReadStatus::ok;
        auto eol = co_await read_line_end(sock, buf, 0, 4096, status);
        if (eol == std::string::npos) co_return status;
        std::string_view line(buf.data(), eol);
        line = line.substr(0, line.find(';'));  // chunk extensions are skipped
        line = trim(line);
        if (line.empty() || line.size() > 15) co_return ReadStatus::bad;
        std::uint64_t size = 0;
        for (char c : line) {
            int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                    : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                                : -1;
            if (d < 0) co_return ReadStatus::bad;
            size = size * 16 + static_cast<std::uint64_t>(d);
        }
        buf.erase(0, eol + 2);
        if (size == 0) break;
        if (req.body.size() + size > max_size) co_return ReadStatus::too_large;
        while (buf.size() < size + 2)
            if (co_await sock.read_some(buf) <= 0) co_return ReadStatus::eof;
        if (buf.compare(size, 2, "\r\n") != 0) co_return ReadStatus::bad;
        req.body.append(buf, 0, size);
        buf.erase(0, size + 2);
    }
    // Trailers, up to the empty line.
    for (;;) {
        ReadStatus status = ReadStatus::ok;
        auto eol = co_await read_line_end(sock, buf, 0, 8192, status);
        if (eol == std::string::npos) co_return status;
        if (eol == 0) {
            buf.erase(0, 2);
            co_return ReadStatus::ok;
        }
        if (!parse_header_lines(std::string_view(buf.data(), eol), req.trailers)) co_return ReadStatus::bad;
        buf.erase(0, eol + 2);
    }
}

std::string closing_head(int code, std::string_view extra_lines) {
    return "HTTP/1.1 " + std::to_string(code) + " " + std::string(reason_phrase(code)) + "\r\n" +
           std::string(extra_lines) + "Content-Length: 0\r\nConnection: close\r\n\r\n";
}

std::string_view reason_phrase(int code) {
    std::string_view phrase = http::reason_phrase(code);
    return phrase.empty() ? "Status" : phrase;
}

}  // namespace squall::testing::detail

#include "squall/httpclient/request_writer.hpp"

#include "squall/httpclient/errors.hpp"

namespace squall::http {

namespace {

std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 60)) {
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            out += '?';
        } else {
            out += c;
        }
    }
    return out;
}

bool has_forbidden(std::string_view s) noexcept {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

void check_header(std::string_view name, std::string_view value) {
    if (!detail::is_token(name)) {
        throw RequestError("invalid header name \"" + printable(name) + "\" (not a token, or CR/LF in it)");
    }
    if (has_forbidden(value)) {
        throw RequestError("header " + std::string(name) + " has a CR, LF or NUL in its value \"" +
                           printable(value) + "\" (header injection)");
    }
}

void put(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
}

// Headers the writer adds unless the user set them, as bits of known_header().
constexpr unsigned kHost = 1u << 0;
constexpr unsigned kUserAgent = 1u << 1;
constexpr unsigned kAcceptEncoding = 1u << 2;
constexpr unsigned kAuthorization = 1u << 3;
constexpr unsigned kProxyAuthorization = 1u << 4;
constexpr unsigned kConnection = 1u << 5;
constexpr unsigned kContentLength = 1u << 6;
constexpr unsigned kTransferEncoding = 1u << 7;
constexpr unsigned kExpect = 1u << 8;

unsigned known_header(std::string_view name) noexcept {
    switch (name.size()) {
        case 4:
            return iequals(name, "Host") ? kHost : 0u;
        case 6:
            return iequals(name, "Expect") ? kExpect : 0u;
        case 10:
            if (iequals(name, "User-Agent")) return kUserAgent;
            return iequals(name, "Connection") ? kConnection : 0u;
        case 13:
            return iequals(name, "Authorization") ? kAuthorization : 0u;
        case 14:
            return iequals(name, "Content-Length") ? kContentLength : 0u;
        case 15:
            return iequals(name, "Accept-Encoding") ? kAcceptEncoding : 0u;
        case 17:
            return iequals(name, "Transfer-Encoding") ? kTransferEncoding : 0u;
        case 19:
            return iequals(name, "Proxy-Authorization") ? kProxyAuthorization : 0u;
        default:
            return 0;
    }
}

bool method_has_body(std::string_view method) {
    return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

std::string base64_encode(std::string_view data) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        auto n = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) | static_cast<unsigned char>(data[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    if (std::size_t rest = data.size() - i; rest > 0) {
        unsigned n = static_cast<unsigned char>(data[i]) << 16;
        if (rest == 2) n |= static_cast<unsigned char>(data[i + 1]) << 8;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::string basic_auth_value(std::string_view username, std::string_view password) {
    std::string credentials(username);
    credentials += ':';
    credentials += password;
    return "Basic " + base64_encode(credentials);
}

namespace {

// "METHOD target HTTP/1.1\r\n": the origin-form target, or the absolute form through a proxy.
void append_request_line(std::string& head, const std::string& method, const URL& url,
                         const RequestWriterOptions& options) {
    head += method;
    head += ' ';
    const std::size_t target_start = head.size();
    if (options.via_proxy) {
        // Credentials go in Authorization, never in the absolute-form target the proxy may log.
        URL bare = url;
        bare.username.clear();
        bare.password.clear();
        head += bare.to_string();
    } else {
        head += url.path;
        if (url.has_query) {
            head += '?';
            head += url.query;
        }
    }
    // The URL parser already rejects control characters; check again because a URL can be built by hand.
    for (std::size_t i = target_start; i < head.size(); ++i) {
        auto c = static_cast<unsigned char>(head[i]);
        if (c <= 0x20 || c == 0x7f) {
            throw RequestError("request target \"" + printable(std::string_view(head).substr(target_start)) +
                               "\" contains a space or control character");
        }
    }
    head += " HTTP/1.1\r\n";
}

// One pass over the user's headers: validate each, and note which of the ones we would add it sets (the
// known_header() bits). The user agent and credentials we would send are checked too.
unsigned check_user_headers(const HTTPRequest& request) {
    unsigned has = 0;
    for (const auto& [name, value] : request.headers) {
        check_header(name, value);
        has |= known_header(name);
    }
    for (std::string_view v : {std::string_view(request.user_agent), std::string_view(request.auth_username),
                               std::string_view(request.auth_password)}) {
        if (has_forbidden(v))
            throw RequestError("CR, LF or NUL in user_agent or credentials \"" + printable(v) + "\"");
    }
    return has;
}

// Host, User-Agent, Accept-Encoding, Authorization, Proxy-Authorization and Connection, each unless the
// user set it (has).
void append_default_headers(std::string& head, const HTTPRequest& request, const URL& url,
                            const RequestWriterOptions& options, unsigned has) {
    if (!(has & kHost)) {
        head += "Host: ";
        detail::append_host_header(head, url);
        head += "\r\n";
    }
    if (!(has & kUserAgent)) {
        put(head, "User-Agent",
            request.user_agent.empty() ? kDefaultUserAgent : std::string_view(request.user_agent));
    }
    if (request.decompress_response && !(has & kAcceptEncoding)) put(head, "Accept-Encoding", "gzip");
    if (!(has & kAuthorization)) {
        if (!request.auth_username.empty()) {
            put(head, "Authorization", basic_auth_value(request.auth_username, request.auth_password));
        } else if (!url.username.empty()) {
            put(head, "Authorization", basic_auth_value(url.username, url.password));  // userinfo in the URL
        }
    }
    if (options.via_proxy && !request.proxy_username.empty() && !(has & kProxyAuthorization)) {
        put(head, "Proxy-Authorization", basic_auth_value(request.proxy_username, request.proxy_password));
    }
    if (!options.keep_alive && !(has & kConnection)) put(head, "Connection", "close");
}

// The body's framing (chunked for a producer without Content-Length, else Content-Length) and
// Expect: 100-continue; sets out.body, out.streamed, out.chunked and out.expect_continue.
void append_body_framing(SerializedRequest& out, const HTTPRequest& request, unsigned has) {
    std::string& head = out.head;
    const HTTPHeaders& user = request.headers;
    const bool user_length = (has & kContentLength) != 0;
    const bool user_te = (has & kTransferEncoding) != 0;
    if (request.body_producer) {
        out.streamed = true;
        if (!user_length) {
            out.chunked = true;
            if (!user_te) put(head, "Transfer-Encoding", "chunked");
        }
    } else if (request.body) {
        out.body = *request.body;
        if (user_te) throw RequestError("Transfer-Encoding set by the user for a request with a fixed body");
        if (!user_length) {
            put(head, "Content-Length", std::to_string(request.body->size()));
        } else if (user.get("Content-Length") != std::to_string(request.body->size())) {
            throw RequestError("Content-Length header " + std::string(*user.get("Content-Length")) +
                               " does not match the body size " + std::to_string(request.body->size()));
        }
    } else if (method_has_body(request.method) && !user_length) {
        put(head, "Content-Length", "0");
    }
    if (request.expect_100_continue && (out.streamed || !out.body.empty())) {
        out.expect_continue = true;
        if (!(has & kExpect)) put(head, "Expect", "100-continue");
    }
}

}  // namespace

void check_method_and_body(const HTTPRequest& request) {
    const std::string& method = request.method;
    if (!detail::is_token(method)) throw RequestError("invalid HTTP method \"" + printable(method) + "\"");
    if (request.body && request.body_producer) {
        throw RequestError("a request cannot have both body and body_producer");
    }
}

void write_request_into(SerializedRequest& out, const HTTPRequest& request, const URL& url,
                        const RequestWriterOptions& options) {
    check_method_and_body(request);
    std::string& head = out.head;
    head.clear();
    if (head.capacity() < 256) head.reserve(256);
    out.body = {};
    out.chunked = out.streamed = out.expect_continue = false;
    append_request_line(head, request.method, url, options);
    const unsigned has = check_user_headers(request);
    append_default_headers(head, request, url, options, has);
    append_body_framing(out, request, has);
    for (const auto& [name, value] : request.headers) put(head, name, value);
    head += "\r\n";
}

SerializedRequest write_request(const HTTPRequest& request, const URL& url,
                                const RequestWriterOptions& options) {
    SerializedRequest out;
    write_request_into(out, request, url, options);
    return out;
}

std::string write_connect_request(const HTTPRequest& request, const URL& url) {
    for (std::string_view v :
         {std::string_view(request.proxy_username), std::string_view(request.proxy_password)}) {
        if (has_forbidden(v)) throw RequestError("CR, LF or NUL in proxy credentials");
    }
    std::string authority = url.host_port();
    std::string head = "CONNECT " + authority + " HTTP/1.1\r\n";
    put(head, "Host", authority);
    if (!request.proxy_username.empty()) {
        put(head, "Proxy-Authorization", basic_auth_value(request.proxy_username, request.proxy_password));
    }
    head += "\r\n";
    return head;
}

std::string chunk_size_line(std::size_t size) {
    static constexpr char kHex[] = "0123456789abcdef";
    char digits[2 * sizeof(std::size_t)];
    int n = 0;
    do {
        digits[n++] = kHex[size & 0xf];
        size >>= 4;
    } while (size != 0);
    std::string out;
    out.reserve(static_cast<std::size_t>(n) + 2);
    while (n > 0) out += digits[--n];
    out += "\r\n";
    return out;
}

void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) return;
    out += chunk_size_line(data.size());
    out += data;
    out += kChunkEnd;
}

std::string encode_chunk(std::string_view data) {
    std::string out;
    append_chunk(out, data);
    return out;
}

}  // namespace squall::http

#include "squall/httpclient/http2/request_headers.hpp"

#include <string_view>

#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/headers.hpp"
#include "squall/httpclient/request_writer.hpp"

namespace squall::http {

namespace {

bool has_forbidden(std::string_view s) noexcept {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool method_has_body(std::string_view method) {
    return method == "POST" || method == "PUT" || method == "PATCH";
}

// Fields RFC 9113 section 8.2.2 forbids in HTTP/2 (Host is carried as :authority instead).
bool connection_specific(std::string_view name) {
    for (std::string_view f :
         {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"})
        if (iequals(name, f)) return true;
    return false;
}

}  // namespace

void build_request_headers(RequestHeaders& out, const HTTPRequest& request, const URL& url) {
    const std::string& method = request.method;
    if (!detail::is_token(method)) throw RequestError("invalid HTTP method \"" + method + "\"");
    if (request.body && request.body_producer)
        throw RequestError("a request cannot have both body and body_producer");

    // Everything generated goes into storage first; the fields point into it only once it stops growing.
    struct Pending {
        std::size_t name_at, name_len;
        const char* name_ptr;  // non-null: points outside storage
        std::size_t value_at, value_len;
        const char* value_ptr;
    };
    std::string& storage = out.storage;
    storage.clear();
    std::vector<Pending> pending;
    pending.reserve(8 + request.headers.size());
    auto keep = [&](std::string_view s) {
        std::size_t at = storage.size();
        storage.append(s);
        return at;
    };
    auto add_static = [&](std::string_view name, std::string_view value) {
        pending.push_back({0, name.size(), name.data(), 0, value.size(), value.data()});
    };
    auto add_generated = [&](std::string_view name, std::string_view value) {
        std::size_t v = keep(value);
        pending.push_back({0, name.size(), name.data(), v, value.size(), nullptr});
    };

    add_static(":method", method);
    add_static(":scheme", url.scheme);
    std::string authority;
    if (auto host = request.headers.get("Host")) {
        if (has_forbidden(*host)) throw RequestError("header Host has a CR, LF or NUL in its value");
        authority = std::string(*host);
    } else {
        detail::append_host_header(authority, url);
    }
    add_generated(":authority", authority);
    std::string path = url.path;
    if (url.has_query) path.append("?").append(url.query);
    for (char c : path) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f)
            throw RequestError("request target \"" + path + "\" contains a space or control character");
    }
    add_generated(":path", path);

    bool has_ua = false, has_ae = false, has_auth = false, has_length = false;
    for (const auto& [name, value] : request.headers) {
        if (!detail::is_token(name))
            throw RequestError("invalid header name \"" + name + "\" (not a token, or CR/LF in it)");
        if (has_forbidden(value))
            throw RequestError("header " + name + " has a CR, LF or NUL in its value (header injection)");
        if (iequals(name, "User-Agent")) has_ua = true;
        if (iequals(name, "Accept-Encoding")) has_ae = true;
        if (iequals(name, "Authorization")) has_auth = true;
        if (iequals(name, "Content-Length")) has_length = true;
    }
    for (std::string_view v : {std::string_view(request.user_agent), std::string_view(request.auth_username),
                               std::string_view(request.auth_password)}) {
        if (has_forbidden(v)) throw RequestError("CR, LF or NUL in user_agent or credentials");
    }
    if (!has_ua)
        add_static("user-agent",
                   request.user_agent.empty() ? kDefaultUserAgent : std::string_view(request.user_agent));
    if (request.decompress_response && !has_ae) add_static("accept-encoding", "gzip");
    if (!has_auth) {
        if (!request.auth_username.empty()) {
            add_generated("authorization", basic_auth_value(request.auth_username, request.auth_password));
        } else if (!url.username.empty()) {
            add_generated("authorization", basic_auth_value(url.username, url.password));
        }
    }
    if (request.body) {
        const std::string size = std::to_string(request.body->size());
        if (!has_length) {
            add_generated("content-length", size);
        } else if (request.headers.get("Content-Length") != size) {
            throw RequestError("Content-Length header " +
                               std::string(*request.headers.get("Content-Length")) +
                               " does not match the body size " + size);
        }
    } else if (!request.body_producer && method_has_body(method) && !has_length) {
        add_static("content-length", "0");
    }
    for (const auto& [name, value] : request.headers) {
        if (connection_specific(name)) continue;
        if (iequals(name, "TE") && !iequals(value, "trailers")) continue;
        if (iequals(name, "Expect"))
            continue;  // no 100-continue dance on HTTP/2: the body goes with the request
        std::size_t n = storage.size();
        for (char c : name) storage.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
        pending.push_back({n, name.size(), nullptr, 0, value.size(), value.data()});
    }

    out.fields.clear();
    out.fields.reserve(pending.size());
    auto* base = reinterpret_cast<std::uint8_t*>(storage.data());
    for (const auto& p : pending) {
        nghttp2_nv nv{};
        nv.name =
            p.name_ptr ? reinterpret_cast<std::uint8_t*>(const_cast<char*>(p.name_ptr)) : base + p.name_at;
        nv.namelen = p.name_len;
        nv.value =
            p.value_ptr ? reinterpret_cast<std::uint8_t*>(const_cast<char*>(p.value_ptr)) : base + p.value_at;
        nv.valuelen = p.value_len;
        nv.flags = NGHTTP2_NV_FLAG_NONE;
        out.fields.push_back(nv);
    }
}

}  // namespace squall::http

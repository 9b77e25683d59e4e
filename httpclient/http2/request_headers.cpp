#include "squall/httpclient/http2/request_headers.hpp"

#include <array>
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

// Everything generated goes into storage first; the fields point into it only once it stops growing
// (finish()). Names and values from outside storage (literals, the request, the URL) are pointed to as
// they are.
class FieldList {
public:
    // The storage keeps its capacity (a RequestHeaders reused for every request allocates only when a
    // request needs more room than any before it).
    explicit FieldList(std::string& storage) : storage_(storage) { storage_.clear(); }

    // A field whose name and value outlive the list.
    void add_static(std::string_view name, std::string_view value) {
        push({0, name.size(), name.data(), 0, value.size(), value.data()});
    }

    // A field whose value is copied into storage.
    void add_generated(std::string_view name, std::string_view value) {
        std::size_t v = storage_.size();
        storage_.append(value);
        push({0, name.size(), name.data(), v, value.size(), nullptr});
    }

    // A field whose value `write` appends to storage; returns the value (valid until storage grows).
    template <class Write>
    std::string_view add_generated_by(std::string_view name, Write&& write) {
        std::size_t v = storage_.size();
        write(storage_);
        push({0, name.size(), name.data(), v, storage_.size() - v, nullptr});
        return std::string_view(storage_).substr(v);
    }

    // A user's field: its name lowercased into storage, its value pointed to in the request.
    void add_lowercased(std::string_view name, std::string_view value) {
        std::size_t n = storage_.size();
        for (char c : name) storage_.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
        push({n, name.size(), nullptr, 0, value.size(), value.data()});
    }

    // The nghttp2 header list, pointing into storage and into what the static fields point to.
    void finish(std::vector<nghttp2_nv>& fields) const {
        fields.clear();
        fields.reserve(count_);
        auto* base = reinterpret_cast<std::uint8_t*>(storage_.data());
        for (std::size_t i = 0; i < count_; ++i) {
            const Pending& p = i < kInline ? inline_[i] : more_[i - kInline];
            nghttp2_nv nv{};
            nv.name = p.name_ptr ? reinterpret_cast<std::uint8_t*>(const_cast<char*>(p.name_ptr))
                                 : base + p.name_at;
            nv.namelen = p.name_len;
            nv.value = p.value_ptr ? reinterpret_cast<std::uint8_t*>(const_cast<char*>(p.value_ptr))
                                   : base + p.value_at;
            nv.valuelen = p.value_len;
            nv.flags = NGHTTP2_NV_FLAG_NONE;
            fields.push_back(nv);
        }
    }

private:
    struct Pending {
        std::size_t name_at, name_len;
        const char* name_ptr;  // non-null: points outside storage
        std::size_t value_at, value_len;
        const char* value_ptr;
    };
    // Fields beyond the first kInline (the pseudo-headers, the defaults and a few of the user's) go to
    // more_, the only allocation here.
    static constexpr std::size_t kInline = 16;

    void push(const Pending& p) {
        if (count_ < kInline) {
            inline_[count_] = p;
        } else {
            more_.push_back(p);
        }
        ++count_;
    }

    std::string& storage_;
    std::array<Pending, kInline> inline_{};
    std::vector<Pending> more_;
    std::size_t count_ = 0;
};

// :method, :scheme, :authority (the user's Host, else the URL's) and :path. The generated values are
// written straight into the storage (no temporary strings).
void add_pseudo_headers(FieldList& fields, const HTTPRequest& request, const URL& url) {
    fields.add_static(":method", request.method);
    fields.add_static(":scheme", url.scheme);
    if (auto host = request.headers.get("Host")) {
        if (has_forbidden(*host)) throw RequestError("header Host has a CR, LF or NUL in its value");
        fields.add_generated(":authority", *host);
    } else {
        fields.add_generated_by(":authority",
                                [&url](std::string& out) { detail::append_host_header(out, url); });
    }
    std::string_view path = fields.add_generated_by(":path", [&url](std::string& out) {
        out.append(url.path);
        if (url.has_query) out.append("?").append(url.query);
    });
    for (char c : path) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f)
            throw RequestError("request target \"" + std::string(path) +
                               "\" contains a space or control character");
    }
}

// Which of the fields we would add the user set.
struct UserSets {
    bool user_agent = false, accept_encoding = false, authorization = false, content_length = false;
};

// Validates the user's fields, the user agent and the credentials, and notes which defaults the user set.
UserSets check_user_headers(const HTTPRequest& request) {
    UserSets has;
    for (const auto& [name, value] : request.headers) {
        if (!detail::is_token(name))
            throw RequestError("invalid header name \"" + std::string(name) +
                               "\" (not a token, or CR/LF in it)");
        if (has_forbidden(value))
            throw RequestError("header " + std::string(name) +
                               " has a CR, LF or NUL in its value (header injection)");
        if (iequals(name, "User-Agent")) has.user_agent = true;
        if (iequals(name, "Accept-Encoding")) has.accept_encoding = true;
        if (iequals(name, "Authorization")) has.authorization = true;
        if (iequals(name, "Content-Length")) has.content_length = true;
    }
    for (std::string_view v : {std::string_view(request.user_agent), std::string_view(request.auth_username),
                               std::string_view(request.auth_password)}) {
        if (has_forbidden(v)) throw RequestError("CR, LF or NUL in user_agent or credentials");
    }
    return has;
}

// user-agent, accept-encoding, authorization and content-length, each unless the user set it.
void add_default_headers(FieldList& fields, const HTTPRequest& request, const URL& url, UserSets has) {
    if (!has.user_agent)
        fields.add_static("user-agent", request.user_agent.empty() ? kDefaultUserAgent
                                                                   : std::string_view(request.user_agent));
    if (request.decompress_response && !has.accept_encoding) fields.add_static("accept-encoding", "gzip");
    if (!has.authorization) {
        if (!request.auth_username.empty()) {
            fields.add_generated("authorization",
                                 basic_auth_value(request.auth_username, request.auth_password));
        } else if (!url.username.empty()) {
            fields.add_generated("authorization", basic_auth_value(url.username, url.password));
        }
    }
    if (request.body) {
        const std::string size = std::to_string(request.body->size());
        if (!has.content_length) {
            fields.add_generated("content-length", size);
        } else if (request.headers.get("Content-Length") != size) {
            throw RequestError("Content-Length header " +
                               std::string(*request.headers.get("Content-Length")) +
                               " does not match the body size " + size);
        }
    } else if (!request.body_producer && method_has_body(request.method) && !has.content_length) {
        fields.add_static("content-length", "0");
    }
}

// The user's fields, lowercased, without the ones HTTP/2 forbids or does not use.
void add_user_headers(FieldList& fields, const HTTPRequest& request) {
    for (const auto& [name, value] : request.headers) {
        if (connection_specific(name)) continue;
        if (iequals(name, "TE") && !iequals(value, "trailers")) continue;
        if (iequals(name, "Expect"))
            continue;  // no 100-continue dance on HTTP/2: the body goes with the request
        fields.add_lowercased(name, value);
    }
}

}  // namespace

void build_request_headers(RequestHeaders& out, const HTTPRequest& request, const URL& url) {
    check_method_and_body(request);
    FieldList fields(out.storage);
    add_pseudo_headers(fields, request, url);
    const UserSets has = check_user_headers(request);
    add_default_headers(fields, request, url, has);
    add_user_headers(fields, request);
    fields.finish(out.fields);
}

}  // namespace squall::http

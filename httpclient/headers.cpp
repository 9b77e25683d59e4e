#include "squall/httpclient/headers.hpp"

#include <algorithm>

#include "squall/httpclient/errors.hpp"

namespace squall::http {

namespace {
constexpr std::array<unsigned char, 256> kLower = [] {
    std::array<unsigned char, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return t;
}();
}  // namespace

namespace detail {
bool iequals_same_size(const char* a, const char* b, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i] &&
            kLower[static_cast<unsigned char>(a[i])] != kLower[static_cast<unsigned char>(b[i])])
            return false;
    }
    return true;
}

std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}
}  // namespace detail

HTTPHeaders::HTTPHeaders(std::initializer_list<Field> fields) : fields_(fields) {}

void HTTPHeaders::add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
}

void HTTPHeaders::set(std::string_view name, std::string value) {
    auto first =
        std::find_if(fields_.begin(), fields_.end(), [&](const Field& f) { return iequals(f.first, name); });
    if (first == fields_.end()) {
        fields_.emplace_back(std::string(name), std::move(value));
        return;
    }
    first->second = std::move(value);
    fields_.erase(std::remove_if(std::next(first), fields_.end(),
                                 [&](const Field& f) { return iequals(f.first, name); }),
                  fields_.end());
}

std::optional<std::string_view> HTTPHeaders::get(std::string_view name) const {
    for (const auto& f : fields_) {
        if (iequals(f.first, name)) return std::string_view(f.second);
    }
    return std::nullopt;
}

std::string_view HTTPHeaders::get(std::string_view name, std::string_view fallback) const {
    auto v = get(name);
    return v ? *v : fallback;
}

std::vector<std::string_view> HTTPHeaders::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (const auto& f : fields_) {
        if (iequals(f.first, name)) out.emplace_back(f.second);
    }
    return out;
}

std::size_t HTTPHeaders::remove(std::string_view name) {
    auto before = fields_.size();
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                                 [&](const Field& f) { return iequals(f.first, name); }),
                  fields_.end());
    return before - fields_.size();
}

bool HTTPHeaders::contains(std::string_view name) const {
    return get(name).has_value();
}

void HTTPHeaders::parse_line(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return;
    if (line.front() == ' ' || line.front() == '\t') {
        if (fields_.empty()) throw ProtocolError("header continuation line with no header before it");
        std::string& value = fields_.back().second;
        auto more = detail::trim_ows(line);
        if (more.empty()) return;
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
        if (!value.empty()) value += ' ';
        value += more;
        return;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
        throw ProtocolError("malformed header line (no colon): \"" + std::string(line.substr(0, 80)) + "\"");
    }
    auto name = line.substr(0, colon);
    if (!detail::is_token(name)) {
        throw ProtocolError("invalid header name \"" + std::string(name.substr(0, 80)) + "\"");
    }
    add(std::string(name), std::string(detail::trim_ows(line.substr(colon + 1))));
}

HTTPHeaders HTTPHeaders::parse(std::string_view block) {
    HTTPHeaders headers;
    while (!block.empty()) {
        auto eol = block.find('\n');
        auto line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view{} : block.substr(eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;
        headers.parse_line(line);
    }
    return headers;
}

namespace {
// A decimal number, saturating at the largest value; nullopt when `s` is not one.
std::optional<std::uint64_t> parse_decimal(std::string_view s) noexcept {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        v = v > (UINT64_MAX - digit) / 10 ? UINT64_MAX : v * 10 + digit;
    }
    return v;
}
}  // namespace

KeepAliveParams parse_keep_alive(std::string_view value) noexcept {
    KeepAliveParams params;
    while (!value.empty()) {
        const auto end = value.find_first_of(",;");
        const std::string_view param = detail::trim_ows(value.substr(0, end));
        value = end == std::string_view::npos ? std::string_view{} : value.substr(end + 1);
        const auto eq = param.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view name = detail::trim_ows(param.substr(0, eq));
        const auto number = parse_decimal(detail::trim_ows(param.substr(eq + 1)));
        if (!number) continue;
        if (iequals(name, "timeout")) params.timeout_seconds = number;
        if (iequals(name, "max")) params.max = number;
    }
    return params;
}

}  // namespace squall::http

#include "squall/httpclient/headers.hpp"

#include <algorithm>
#include <stdexcept>

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

HTTPHeaders::HTTPHeaders(std::initializer_list<Field> fields) {
    std::size_t bytes = 0;
    for (const auto& [name, value] : fields) bytes += name.size() + value.size();
    text_.reserve(bytes);
    for (const auto& [name, value] : fields) add(name, value);
}

HTTPHeaders::HTTPHeaders(const HTTPHeaders& other)
    : text_(other.text_), overflow_(other.overflow_), size_(other.size_), dead_(other.dead_) {
    std::copy_n(other.inline_.begin(), std::min(size_, kInlineFields), inline_.begin());
}

HTTPHeaders::HTTPHeaders(HTTPHeaders&& other) noexcept
    : text_(std::move(other.text_)),
      overflow_(std::move(other.overflow_)),
      size_(other.size_),
      dead_(other.dead_) {
    std::copy_n(other.inline_.begin(), std::min(size_, kInlineFields), inline_.begin());
    other.clear();
}

HTTPHeaders& HTTPHeaders::operator=(const HTTPHeaders& other) {
    if (this != &other) {
        text_ = other.text_;
        overflow_ = other.overflow_;
        size_ = other.size_;
        dead_ = other.dead_;
        std::copy_n(other.inline_.begin(), std::min(size_, kInlineFields), inline_.begin());
    }
    return *this;
}

HTTPHeaders& HTTPHeaders::operator=(HTTPHeaders&& other) noexcept {
    if (this != &other) {
        text_ = std::move(other.text_);
        overflow_ = std::move(other.overflow_);
        size_ = other.size_;
        dead_ = other.dead_;
        std::copy_n(other.inline_.begin(), std::min(size_, kInlineFields), inline_.begin());
        other.clear();
    }
    return *this;
}

HTTPHeaders::Slot& HTTPHeaders::push_slot() {
    if (size_ >= kInlineFields) overflow_.emplace_back();
    Slot& s = slot(size_++);
    s = Slot{0, 0, 0, 0};
    return s;
}

std::uint32_t HTTPHeaders::append_text(std::string_view piece) {
    if (text_.size() + piece.size() > UINT32_MAX)
        throw std::length_error("HTTPHeaders: over 4 GiB of fields");
    const auto at = static_cast<std::uint32_t>(text_.size());
    text_.append(piece);
    return at;
}

void HTTPHeaders::add(std::string_view name, std::string_view value) {
    // A name or value viewing this object's own buffer would dangle once the buffer grows: copy it first.
    const auto inside = [&](std::string_view v) {
        return !v.empty() && v.data() >= text_.data() && v.data() < text_.data() + text_.size();
    };
    if (inside(name) || inside(value)) {
        const std::string copy = std::string(name) + std::string(value);
        add(std::string_view(copy).substr(0, name.size()), std::string_view(copy).substr(name.size()));
        return;
    }
    text_.reserve(text_.size() + name.size() + value.size());
    Slot& s = push_slot();
    s.name_off = append_text(name);
    s.name_len = static_cast<std::uint32_t>(name.size());
    s.value_off = append_text(value);
    s.value_len = static_cast<std::uint32_t>(value.size());
}

void HTTPHeaders::set(std::string_view name, std::string_view value) {
    std::size_t first = 0;
    while (first < size_ && !iequals(field(first).first, name)) ++first;
    if (first == size_) {
        add(name, value);
        return;
    }
    const std::string copy(value);  // `value` may view a field about to be dropped
    erase_if_not([&](std::size_t i) { return i <= first || !iequals(field(i).first, name); });
    Slot& s = slot(first);
    dead_ += s.value_len;
    s.value_len = static_cast<std::uint32_t>(copy.size());
    s.value_off = append_text(copy);
    maybe_compact();
}

template <typename Keep>
std::size_t HTTPHeaders::erase_if_not(Keep keep) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < size_; ++i) {
        if (keep(i)) {
            if (out != i) slot(out) = slot(i);
            ++out;
        } else {
            dead_ += slot(i).name_len + slot(i).value_len;
        }
    }
    const std::size_t removed = size_ - out;
    size_ = out;
    overflow_.resize(size_ > kInlineFields ? size_ - kInlineFields : 0);
    return removed;
}

void HTTPHeaders::maybe_compact() {
    if (dead_ < 256 || dead_ < text_.size() - dead_) return;
    std::string packed;
    packed.reserve(text_.size() - dead_);
    for (std::size_t i = 0; i < size_; ++i) {
        Slot& s = slot(i);
        const auto name_off = static_cast<std::uint32_t>(packed.size());
        packed.append(text_, s.name_off, s.name_len);
        const auto value_off = static_cast<std::uint32_t>(packed.size());
        packed.append(text_, s.value_off, s.value_len);
        s.name_off = name_off;
        s.value_off = value_off;
    }
    text_ = std::move(packed);
    dead_ = 0;
}

void HTTPHeaders::clear() noexcept {
    text_.clear();
    overflow_.clear();
    size_ = 0;
    dead_ = 0;
}

void HTTPHeaders::open_field() {
    Slot& s = push_slot();
    s.name_off = s.value_off = static_cast<std::uint32_t>(text_.size());
}

void HTTPHeaders::append_name(std::string_view piece) {
    Slot& s = slot(size_ - 1);
    append_text(piece);
    s.name_len += static_cast<std::uint32_t>(piece.size());
    s.value_off = s.name_off + s.name_len;
}

void HTTPHeaders::last_value_to_end() {
    Slot& s = slot(size_ - 1);
    if (s.value_off + s.value_len == text_.size()) return;
    const std::string copy = text_.substr(s.value_off, s.value_len);
    dead_ += s.value_len;
    s.value_off = append_text(copy);
}

void HTTPHeaders::append_value(std::string_view piece) {
    last_value_to_end();
    append_text(piece);
    slot(size_ - 1).value_len += static_cast<std::uint32_t>(piece.size());
}

void HTTPHeaders::resize_last_value(std::size_t size) {
    last_value_to_end();
    Slot& s = slot(size_ - 1);
    text_.resize(s.value_off + size, ' ');
    s.value_len = static_cast<std::uint32_t>(size);
}

void HTTPHeaders::pop_back() noexcept {
    const Slot& s = slot(size_ - 1);
    if (s.value_off + s.value_len == text_.size() && s.name_off + s.name_len == s.value_off) {
        text_.resize(s.name_off);  // the last field's bytes are the buffer's tail (a parser's open field)
    } else {
        dead_ += s.name_len + s.value_len;
    }
    --size_;
    if (size_ >= kInlineFields) overflow_.pop_back();
}

std::optional<std::string_view> HTTPHeaders::get(std::string_view name) const {
    for (std::size_t i = 0; i < size_; ++i) {
        const auto [n, v] = field(i);
        if (iequals(n, name)) return v;
    }
    return std::nullopt;
}

std::string_view HTTPHeaders::get(std::string_view name, std::string_view fallback) const {
    auto v = get(name);
    return v ? *v : fallback;
}

std::vector<std::string_view> HTTPHeaders::get_all(std::string_view name) const {
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < size_; ++i) {
        const auto [n, v] = field(i);
        if (iequals(n, name)) out.push_back(v);
    }
    return out;
}

std::size_t HTTPHeaders::remove(std::string_view name) {
    const std::size_t removed = erase_if_not([&](std::size_t i) { return !iequals(field(i).first, name); });
    maybe_compact();
    return removed;
}

bool HTTPHeaders::contains(std::string_view name) const {
    return get(name).has_value();
}

bool operator==(const HTTPHeaders& a, const HTTPHeaders& b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a.field(i) != b.field(i)) return false;
    }
    return true;
}

void HTTPHeaders::parse_line(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return;
    if (line.front() == ' ' || line.front() == '\t') {
        if (empty()) throw ProtocolError("header continuation line with no header before it");
        auto more = detail::trim_ows(line);
        if (more.empty()) return;
        const std::string_view value = detail::trim_ows(last_value());  // (leading OWS was trimmed already)
        resize_last_value(value.size());
        if (!value.empty()) append_value(" ");
        append_value(more);
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
    add(name, detail::trim_ows(line.substr(colon + 1)));
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

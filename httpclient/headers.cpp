#include "squall/httpclient/headers.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "squall/coro/frame_allocator.hpp"
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
    reserve(bytes, fields.size());
    for (const auto& [name, value] : fields) add(name, value);
}

HTTPHeaders::HTTPHeaders(const HTTPHeaders& other) {
    *this = other;
}

HTTPHeaders::~HTTPHeaders() {
    if (block_ != nullptr) ::squall::detail::deallocate_frame(block_, capacity_);
}

HTTPHeaders::HTTPHeaders(HTTPHeaders&& other) noexcept
    : block_(std::exchange(other.block_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      text_size_(std::exchange(other.text_size_, 0)),
      size_(std::exchange(other.size_, 0)),
      dead_(std::exchange(other.dead_, 0)) {}

HTTPHeaders& HTTPHeaders::operator=(const HTTPHeaders& other) {
    if (this == &other) return *this;
    clear();
    if (other.empty()) return *this;
    const std::size_t table = other.size_ * sizeof(Slot);
    if (capacity_ < other.text_size_ + table) {
        if (block_ != nullptr) ::squall::detail::deallocate_frame(block_, capacity_);
        block_ = nullptr;
        capacity_ = 0;
        ensure(other.text_size_ + table);
    }
    std::memcpy(block_, other.block_, other.text_size_);
    std::memcpy(block_ + capacity_ - table, other.block_ + other.capacity_ - table, table);
    text_size_ = other.text_size_;
    size_ = other.size_;
    dead_ = other.dead_;
    return *this;
}

HTTPHeaders& HTTPHeaders::operator=(HTTPHeaders&& other) noexcept {
    if (this == &other) return *this;
    if (block_ != nullptr) ::squall::detail::deallocate_frame(block_, capacity_);
    block_ = std::exchange(other.block_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    text_size_ = std::exchange(other.text_size_, 0);
    size_ = std::exchange(other.size_, 0);
    dead_ = std::exchange(other.dead_, 0);
    return *this;
}

void HTTPHeaders::grow(std::size_t bytes) {
    if (bytes > UINT32_MAX / 2) throw std::length_error("HTTPHeaders: over 2 GiB of fields");
    std::size_t cap = std::max<std::size_t>({bytes, std::size_t(capacity_) * 2, 128});
    cap = (cap + 15) & ~std::size_t(15);  // keeps the table's cells aligned
    auto* block = static_cast<char*>(::squall::detail::allocate_frame(cap));
    const std::size_t table = size_ * sizeof(Slot);
    if (block_ != nullptr) {
        std::memcpy(block, block_, text_size_);
        std::memcpy(block + cap - table, block_ + capacity_ - table, table);
        ::squall::detail::deallocate_frame(block_, capacity_);
    }
    block_ = block;
    capacity_ = static_cast<std::uint32_t>(cap);
}

HTTPHeaders::Slot& HTTPHeaders::push_slot() {
    ensure(text_size_ + (size_ + 1) * sizeof(Slot));
    Slot& s = slot(size_++);
    s = Slot{text_size_, 0, text_size_, 0};
    return s;
}

std::uint32_t HTTPHeaders::append_text(std::string_view piece) {
    ensure(text_size_ + piece.size() + size_ * sizeof(Slot));
    const std::uint32_t at = text_size_;
    if (!piece.empty()) std::memcpy(block_ + at, piece.data(), piece.size());
    text_size_ += static_cast<std::uint32_t>(piece.size());
    return at;
}

void HTTPHeaders::add(std::string_view name, std::string_view value) {
    // A name or value viewing this object's own block would dangle once the block grows: copy it first.
    const auto inside = [&](std::string_view v) {
        return !v.empty() && block_ && v.data() >= block_ && v.data() < block_ + capacity_;
    };
    if (inside(name) || inside(value)) {
        const std::string copy = std::string(name) + std::string(value);
        add(std::string_view(copy).substr(0, name.size()), std::string_view(copy).substr(name.size()));
        return;
    }
    // One check of the room for both pieces and the slot (a parser adds every field of a head this way).
    ensure(text_size_ + name.size() + value.size() + (size_ + 1) * sizeof(Slot));
    char* text = block_ + text_size_;
    if (!name.empty()) std::memcpy(text, name.data(), name.size());
    if (!value.empty()) std::memcpy(text + name.size(), value.data(), value.size());
    const auto name_len = static_cast<std::uint32_t>(name.size());
    slot(size_++) =
        Slot{text_size_, name_len, text_size_ + name_len, static_cast<std::uint32_t>(value.size())};
    text_size_ += name_len + static_cast<std::uint32_t>(value.size());
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
    dead_ += slot(first).value_len;
    const std::uint32_t at = append_text(copy);
    Slot& s = slot(first);
    s.value_off = at;
    s.value_len = static_cast<std::uint32_t>(copy.size());
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
    size_ = static_cast<std::uint32_t>(out);
    return removed;
}

void HTTPHeaders::maybe_compact() {
    if (dead_ < 256 || dead_ < text_size_ - dead_) return;
    HTTPHeaders packed;
    packed.reserve(text_size_ - dead_, size_);
    for (std::size_t i = 0; i < size_; ++i) {
        const auto [name, value] = field(i);
        packed.add(name, value);
    }
    *this = std::move(packed);
}

void HTTPHeaders::clear() noexcept {
    text_size_ = 0;
    size_ = 0;
    dead_ = 0;
}

void HTTPHeaders::open_field() {
    push_slot();
}

void HTTPHeaders::append_name(std::string_view piece) {
    append_text(piece);
    Slot& s = slot(size_ - 1);
    s.name_len += static_cast<std::uint32_t>(piece.size());
    s.value_off = s.name_off + s.name_len;
}

void HTTPHeaders::last_value_to_end() {
    const Slot s = slot(size_ - 1);
    if (s.value_off + s.value_len == text_size_) return;
    ensure(text_size_ + s.value_len + size_ * sizeof(Slot));
    std::memcpy(block_ + text_size_, block_ + s.value_off, s.value_len);  // (disjoint)
    dead_ += s.value_len;
    slot(size_ - 1).value_off = text_size_;
    text_size_ += s.value_len;
}

void HTTPHeaders::append_value(std::string_view piece) {
    last_value_to_end();
    append_text(piece);
    slot(size_ - 1).value_len += static_cast<std::uint32_t>(piece.size());
}

void HTTPHeaders::resize_last_value(std::size_t size) {
    last_value_to_end();
    const Slot s = slot(size_ - 1);
    if (size > s.value_len) {
        const std::string pad(size - s.value_len, ' ');
        append_text(pad);
    } else {
        text_size_ = s.value_off + static_cast<std::uint32_t>(size);
    }
    slot(size_ - 1).value_len = static_cast<std::uint32_t>(size);
}

void HTTPHeaders::pop_back() noexcept {
    const Slot& s = slot(size_ - 1);
    if (s.value_off + s.value_len == text_size_ && s.name_off + s.name_len == s.value_off) {
        text_size_ = s.name_off;  // the last field's bytes are the text's tail (a parser's open field)
    } else {
        dead_ += s.name_len + s.value_len;
    }
    --size_;
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
        std::size_t kept = last_value().size();  // the value without its trailing spaces and tabs
        while (kept != 0 && (last_value()[kept - 1] == ' ' || last_value()[kept - 1] == '\t')) --kept;
        resize_last_value(kept);
        if (kept != 0) append_value(" ");
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

// HTTPHeaders: an ordered, multi-valued, case-insensitive header list (Tornado's HTTPHeaders).
//
//   HTTPHeaders h;
//   h.add("Set-Cookie", "a=1");
//   h.add("set-cookie", "b=2");
//   h.get("SET-COOKIE");        // "a=1" (first value)
//   h.get_all("Set-Cookie");    // {"a=1", "b=2"}
//   for (const auto& [name, value] : h) { ... }   // insertion order, names as first written
//
// Lookups are linear: a response has tens of headers, and a vector keeps order and allocates once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace squall::http {

namespace detail {
bool iequals_same_size(const char* a, const char* b, std::size_t n) noexcept;
}

// ASCII case-insensitive equality (header names, schemes, tokens).
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && detail::iequals_same_size(a.data(), b.data(), a.size());
}

// An ordered list of header fields; names compare case-insensitively, repeated names are kept.
class HTTPHeaders {
public:
    using Field = std::pair<std::string, std::string>;          // (name, value)
    using const_iterator = std::vector<Field>::const_iterator;  // iterates fields in order

    HTTPHeaders() = default;
    // The fields in order (as by add()).
    HTTPHeaders(std::initializer_list<Field> fields);

    // Appends a field; existing fields of the same name stay.
    void add(std::string name, std::string value);
    // Replaces every field of this name with one (at the position of the first, else at the end).
    void set(std::string_view name, std::string value);
    // The first value of `name`, if any.
    std::optional<std::string_view> get(std::string_view name) const;
    // The first value of `name`, or `fallback`.
    std::string_view get(std::string_view name, std::string_view fallback) const;
    // Every value of `name`, in order.
    std::vector<std::string_view> get_all(std::string_view name) const;
    // Removes every field of this name; returns how many were removed.
    std::size_t remove(std::string_view name);
    // A field of this name exists.
    bool contains(std::string_view name) const;

    // The number of fields (a repeated name counts each time), and whole-list operations.
    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    void clear() noexcept { fields_.clear(); }
    void reserve(std::size_t fields) { fields_.reserve(fields); }
    // Appends a field with an empty name and value and returns it, for a parser to fill in place (the
    // name must end up a valid token; see parse_line for the rules a parser applies).
    Field& add_empty() { return fields_.emplace_back(); }
    // Drops the last field (a parser abandoning one it was filling).
    void pop_back() noexcept { fields_.pop_back(); }
    // The fields in order.
    const_iterator begin() const noexcept { return fields_.begin(); }
    const_iterator end() const noexcept { return fields_.end(); }

    // Parses one header line ("Name: value", CRLF or LF optional). A line starting with SP or HT continues
    // the previous field's value (obsolete line folding): it is joined with one space, as RFC 9112 says a
    // recipient may. Throws ProtocolError for a line without a colon, an empty or invalid name, or a
    // continuation with no field before it.
    void parse_line(std::string_view line);
    // Parses a header block (lines separated by CRLF or LF; stops at the first empty line).
    static HTTPHeaders parse(std::string_view block);

    friend bool operator==(const HTTPHeaders&, const HTTPHeaders&) = default;

private:
    std::vector<Field> fields_;
};

// The parameters of a Keep-Alive header (RFC 2068 §19.7.1.1; Apache and others send it with keep-alive
// responses): timeout=N, the seconds the server keeps an idle connection open, and max=N, the requests it
// still takes on the connection (Apache counts it down). Parameters are comma- (or semicolon-) separated,
// names case-insensitive, values decimal (quotes allowed); anything else is ignored, and a number too
// large is taken as the largest value.
struct KeepAliveParams {
    std::optional<std::uint64_t> timeout_seconds;  // timeout=N; unset when absent or not a number
    std::optional<std::uint64_t> max;              // max=N; unset when absent or not a number
};
// Parses a Keep-Alive header value as described above; never throws.
KeepAliveParams parse_keep_alive(std::string_view value) noexcept;

namespace detail {
// RFC 9110 token characters (header names, methods): one table lookup per character.
inline constexpr std::array<unsigned char, 256> kTokenChars = [] {
    std::array<unsigned char, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = 1;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 'a' + 'A'] = 1;
    for (unsigned char c : std::string_view("!#$%&'*+-.^_`|~")) t[c] = 1;
    return t;
}();
// One character of a token.
inline bool is_token_char(unsigned char c) noexcept {
    return kTokenChars[c] != 0;
}
// Every character is a token character (true for an empty string: is_token also wants one). An early
// exit keeps GCC from vectorizing the loop, which costs more than it saves on names this short.
inline bool all_token_chars(std::string_view s) noexcept {
    for (char c : s) {
        if (kTokenChars[static_cast<unsigned char>(c)] == 0) return false;
    }
    return true;
}
// A valid token: non-empty, every character a token character.
inline bool is_token(std::string_view s) noexcept {
    return !s.empty() && all_token_chars(s);
}
// Strips leading and trailing spaces and horizontal tabs.
std::string_view trim_ows(std::string_view s) noexcept;
}  // namespace detail

}  // namespace squall::http

// HTTPHeaders: an ordered, multi-valued, case-insensitive header list (Tornado's HTTPHeaders).
//
//   HTTPHeaders h;
//   h.add("Set-Cookie", "a=1");
//   h.add("set-cookie", "b=2");
//   h.get("SET-COOKIE");        // "a=1" (first value)
//   h.get_all("Set-Cookie");    // {"a=1", "b=2"}
//   for (const auto& [name, value] : h) { ... }   // insertion order, names as first written
//
// Lookups are linear: a response has tens of headers; the fields live in one buffer (below).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
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
//
// Storage is one heap block: every name and value from its front, a table of offsets (16 bytes per
// field) from its back. A response head costs one block however many fields it has (recycled per
// thread), and the object itself is a pointer and four counts. Views returned by get(), get_all() and
// iteration stay valid until the headers are next modified.
class HTTPHeaders {
    struct Slot {
        std::uint32_t name_off, name_len, value_off, value_len;
    };

public:
    using Field = std::pair<std::string_view, std::string_view>;  // (name, value)

    // Iterates fields in order; dereferences to a Field (views into the headers).
    class const_iterator {
    public:
        using value_type = Field;                             // what it dereferences to
        using difference_type = std::ptrdiff_t;               // distance between two iterators
        using reference = Field;                              // a Field by value (views into the headers)
        using iterator_category = std::forward_iterator_tag;  // a forward iterator
        // What operator-> returns: a Field held by value, so `it->first` works.
        struct Arrow {
            Field field;  // the field pointed at
            // The held field.
            const Field* operator->() const noexcept { return &field; }
        };
        // An iterator of no headers, to assign one to.
        const_iterator() = default;
        // The current field.
        Field operator*() const noexcept { return owner_->field(index_); }
        // The current field, for `it->first` / `it->second`.
        Arrow operator->() const noexcept { return {owner_->field(index_)}; }
        // The next field.
        const_iterator& operator++() noexcept {
            ++index_;
            return *this;
        }
        // The next field; returns the iterator as it was.
        const_iterator operator++(int) noexcept {
            auto old = *this;
            ++index_;
            return old;
        }
        // The same position.
        friend bool operator==(const const_iterator& a, const const_iterator& b) noexcept {
            return a.index_ == b.index_;
        }

    private:
        friend class HTTPHeaders;
        const_iterator(const HTTPHeaders* owner, std::size_t index) : owner_(owner), index_(index) {}
        const HTTPHeaders* owner_ = nullptr;
        std::size_t index_ = 0;
    };

    HTTPHeaders() noexcept = default;
    // A copy allocates exactly what the fields use; a move takes the block.
    HTTPHeaders(const HTTPHeaders& other);
    HTTPHeaders(HTTPHeaders&& other) noexcept;
    HTTPHeaders& operator=(const HTTPHeaders& other);
    HTTPHeaders& operator=(HTTPHeaders&& other) noexcept;
    ~HTTPHeaders();
    // The fields in order (as by add()).
    HTTPHeaders(std::initializer_list<Field> fields);

    // Appends a field; existing fields of the same name stay.
    void add(std::string_view name, std::string_view value);
    // Replaces every field of this name with one (at the position of the first, else at the end).
    void set(std::string_view name, std::string_view value);
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
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    // Drops every field; the buffers are kept for reuse.
    void clear() noexcept;
    // The bytes of names and values held, replaced ones not yet reclaimed included (at most about twice
    // the live ones: set() and remove() compact the buffer past that).
    std::size_t bytes() const noexcept { return text_size_; }
    // Reserves room for `bytes` of names and values and `fields` fields.
    void reserve(std::size_t bytes, std::size_t fields) {
        ensure(text_size_ + bytes + (size_ + fields) * sizeof(Slot));
    }
    // The fields in order.
    const_iterator begin() const noexcept { return {this, 0}; }
    const_iterator end() const noexcept { return {this, size_}; }
    // The i-th field.
    Field field(std::size_t i) const noexcept {
        const Slot& s = slot(i);
        return {std::string_view(block_ + s.name_off, s.name_len),
                std::string_view(block_ + s.value_off, s.value_len)};
    }

    // Building the last field piece by piece, for a parser (see parse_line for the rules one applies; the
    // name must end up a valid token): open_field() appends an empty field, append_name() may only be
    // called before the first append_value(), resize_last_value() shortens (or pads with spaces) the
    // value, pop_back() drops the last field.
    void open_field();
    void append_name(std::string_view piece);
    void append_value(std::string_view piece);
    std::string_view last_name() const noexcept {
        return empty() ? std::string_view{} : field(size_ - 1).first;
    }
    std::string_view last_value() const noexcept {
        return empty() ? std::string_view{} : field(size_ - 1).second;
    }
    void resize_last_value(std::size_t size);
    void pop_back() noexcept;
    // Appends the field of a parsed line "name:value" held in `line` (not in these headers), where the
    // name is line[0, name_len) and the value line[value_at, end): one copy of the line; the bytes between
    // name and value are counted as unused.
    void add_line(std::string_view line, std::size_t name_len, std::size_t value_at) {
        ensure(text_size_ + line.size() + (size_ + 1) * sizeof(Slot));
        std::memcpy(block_ + text_size_, line.data(), line.size());
        const auto at = text_size_;
        slot(size_++) =
            Slot{at, static_cast<std::uint32_t>(name_len), at + static_cast<std::uint32_t>(value_at),
                 static_cast<std::uint32_t>(line.size() - value_at)};
        text_size_ += static_cast<std::uint32_t>(line.size());
        dead_ += static_cast<std::uint32_t>(value_at - name_len);
    }

    // Parses one header line ("Name: value", CRLF or LF optional). A line starting with SP or HT continues
    // the previous field's value (obsolete line folding): it is joined with one space, as RFC 9112 says a
    // recipient may. Throws ProtocolError for a line without a colon, an empty or invalid name, or a
    // continuation with no field before it.
    void parse_line(std::string_view line);
    // Parses a header block (lines separated by CRLF or LF; stops at the first empty line).
    static HTTPHeaders parse(std::string_view block);

    // The same fields in the same order, names and values compared exactly.
    friend bool operator==(const HTTPHeaders& a, const HTTPHeaders& b) noexcept;

private:
    // Slot i is the (i+1)-th Slot-sized cell from the block's end (the capacity is a multiple of 16).
    Slot& slot(std::size_t i) noexcept {
        return reinterpret_cast<Slot*>(block_ + capacity_)[-1 - std::ptrdiff_t(i)];
    }
    const Slot& slot(std::size_t i) const noexcept {
        return reinterpret_cast<const Slot*>(block_ + capacity_)[-1 - std::ptrdiff_t(i)];
    }
    // Makes the block at least `bytes` long (text and table), keeping both where they are relative to
    // its front and back.
    void ensure(std::size_t bytes) {
        if (bytes > capacity_) grow(bytes);
    }
    void grow(std::size_t bytes);  // ensure() when the block is too small
    Slot& push_slot();
    std::uint32_t append_text(std::string_view piece);
    // Moves the last field's value to the end of the buffer (where append_value can grow it).
    void last_value_to_end();
    // Removes the fields for which keep(i) is false, keeping order; returns how many went.
    template <typename Keep>
    std::size_t erase_if_not(Keep keep);
    // Rewrites the buffer without the bytes no field refers to, once they outweigh the live ones.
    void maybe_compact();

    // Names and values from the front, the Slot table from the back. From this thread's recycling
    // allocator (coro/frame_allocator.hpp): a response's block is made and freed per request, and a
    // keep-alive loop reuses the same memory instead of a malloc and a free.
    char* block_ = nullptr;
    std::uint32_t capacity_ = 0;   // bytes of block_
    std::uint32_t text_size_ = 0;  // bytes of names and values in use at the front
    std::uint32_t size_ = 0;       // fields
    std::uint32_t dead_ = 0;       // bytes of the text no field refers to
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

// AMQP field tables and arrays: typed values for headers, queue/exchange arguments and client properties.
//
// Type letters follow RabbitMQ's errata table, not the 0-9-1 spec's:
//
//   letter  C++ type          letter  C++ type          letter  C++ type
//   t       bool              I       int32_t           S       std::string (bytes, usually UTF-8)
//   b       int8_t            i       uint32_t          x       ByteArray
//   B       uint8_t           l       int64_t           T       Timestamp (seconds since the epoch)
//   s       int16_t           f       float             A       FieldArray
//   u       uint16_t          d       double            F       FieldTable
//   D       Decimal           V       std::monostate (void)
//
// Decoding also accepts the letters py-amqp writes or reads that RabbitMQ does not use: 'U' (int16_t) and
// 'L' (int64_t, what py-amqp writes for integers beyond 32 bits). Encoding always writes RabbitMQ's letters.
// Where py-amqp 5.1 disagrees with RabbitMQ (we follow RabbitMQ):
//   'b' / 'B'  py-amqp reads b as unsigned and B as signed (swapped)
//   's'        py-amqp reads a short string; RabbitMQ (and we) a signed 16-bit integer
//   'l'        py-amqp reads unsigned 64-bit; RabbitMQ signed
//   'D'        py-amqp reads the digits as signed; RabbitMQ unsigned (the bytes are the same; we keep
//   int32_t)
//
// A FieldTable keeps insertion order (and, when decoded, the peer's order and any duplicate keys).
//
//   amqp::FieldTable args{{"x-message-ttl", int32_t{60000}}, {"x-dead-letter-exchange", "dlx"}};
//   args.set("x-max-priority", uint8_t{10});
//   if (const auto* ttl = args.find("x-message-ttl")) std::cout << *ttl->as_integer();
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace squall::amqp {

namespace detail {
class Reader;
}

// Tables and arrays nest at most this deep (decoding and encoding); deeper input is a FrameError.
inline constexpr int kMaxFieldNesting = 32;

// A decimal field value ('D').
struct Decimal {
    uint8_t scale = 0;  // the value is `value` / 10^scale
    int32_t value = 0;  // the digits
    // Field by field.
    bool operator==(const Decimal&) const = default;
};

// A timestamp field value ('T'), as AMQP sends it.
struct Timestamp {
    uint64_t seconds = 0;  // seconds since the Unix epoch
    // Field by field.
    bool operator==(const Timestamp&) const = default;
};

// Raw bytes ('x'), kept distinct from the long string 'S' so a round trip keeps the letter.
struct ByteArray {
    std::string bytes{};  // the raw bytes
    // Byte by byte.
    bool operator==(const ByteArray&) const = default;
};

class FieldValue;

// An AMQP field table ('F'): named values in the order they were added (or read); keys may repeat.
class FieldTable {
public:
    // A key and its value; iteration yields them in order.
    using Entry = std::pair<std::string, FieldValue>;
    using const_iterator = std::vector<Entry>::const_iterator;

    FieldTable() = default;
    // The entries in this order: FieldTable{{"x-match", "all"}, {"n", int32_t{1}}}.
    FieldTable(std::initializer_list<Entry> entries);

    // Replaces the value of the first entry with this key, or appends a new entry.
    void set(std::string key, FieldValue value);
    // Appends without looking for an existing key.
    void append(std::string key, FieldValue value);
    // The first entry with this key, or nullptr.
    const FieldValue* find(std::string_view key) const;
    FieldValue* find(std::string_view key);
    bool contains(std::string_view key) const { return find(key) != nullptr; }
    // Removes every entry with this key; returns how many were removed.
    size_t erase(std::string_view key);

    size_t size() const;
    bool empty() const;
    const_iterator begin() const;
    const_iterator end() const;
    const std::vector<Entry>& entries() const { return entries_; }  // every entry, in order

    friend bool operator==(const FieldTable& a, const FieldTable& b);

private:
    std::vector<Entry> entries_;
};

// An array field value ('A').
using FieldArray = std::vector<FieldValue>;

// One value of a field table or array: any of the types of RabbitMQ's field table grammar.
class FieldValue {
public:
    // The held type: one alternative per field type letter.
    using Variant =
        std::variant<std::monostate, bool, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t, int64_t,
                     float, double, Decimal, std::string, ByteArray, Timestamp, FieldArray, FieldTable>;

    FieldValue() = default;  // void ('V')
    // Holds `v`, written with the letter of its type (see type_letter()).
    FieldValue(std::monostate) {}
    FieldValue(bool v) : v_(v) {}
    FieldValue(int8_t v) : v_(v) {}
    FieldValue(uint8_t v) : v_(v) {}
    FieldValue(int16_t v) : v_(v) {}
    FieldValue(uint16_t v) : v_(v) {}
    FieldValue(int32_t v) : v_(v) {}
    FieldValue(uint32_t v) : v_(v) {}
    FieldValue(int64_t v) : v_(v) {}
    FieldValue(float v) : v_(v) {}
    FieldValue(double v) : v_(v) {}
    FieldValue(Decimal v) : v_(v) {}
    FieldValue(std::string v) : v_(std::move(v)) {}
    FieldValue(std::string_view v) : v_(std::string(v)) {}
    FieldValue(const char* v) : v_(std::string(v)) {}  // not bool
    FieldValue(ByteArray v) : v_(std::move(v)) {}
    FieldValue(Timestamp v) : v_(v) {}
    FieldValue(FieldArray v) : v_(std::move(v)) {}
    FieldValue(FieldTable v) : v_(std::move(v)) {}

    // Holds a T.
    template <class T>
    bool is() const {
        return std::holds_alternative<T>(v_);
    }
    // The value as T; throws std::bad_variant_access when it holds another type.
    template <class T>
    const T& as() const {
        return std::get<T>(v_);
    }
    template <class T>
    T& as() {
        return std::get<T>(v_);
    }
    template <class T>
    const T* get_if() const {
        return std::get_if<T>(&v_);
    }
    bool is_void() const { return is<std::monostate>(); }

    // Any integer type (b B s u I i l) as int64_t; nullopt for other types. (uint64 never occurs.)
    std::optional<int64_t> as_integer() const;
    // The letter encoding writes for the held type.
    char type_letter() const;

    // The held value, for std::visit.
    const Variant& variant() const { return v_; }
    Variant& variant() { return v_; }

    friend bool operator==(const FieldValue& a, const FieldValue& b) { return a.v_ == b.v_; }

private:
    Variant v_;
};

// Defined here because they need FieldValue complete.
inline size_t FieldTable::size() const {
    return entries_.size();
}
inline bool FieldTable::empty() const {
    return entries_.empty();
}
inline FieldTable::const_iterator FieldTable::begin() const {
    return entries_.begin();
}
inline FieldTable::const_iterator FieldTable::end() const {
    return entries_.end();
}

// Appends the table as the wire type `table` (a 4-byte length, then key/value pairs).
// Throws squall::UsageError when a key exceeds 255 bytes or nesting exceeds kMaxFieldNesting.
void encode_field_table(std::string& out, const FieldTable& table);
// Appends one value with its type letter.
void encode_field_value(std::string& out, const FieldValue& value);

// Decodes a wire `table` that starts at `bytes[0]` (its 4-byte length first). `consumed`, when given,
// receives the bytes used; without it trailing bytes are a FrameError. Malformed input → FrameError.
FieldTable decode_field_table(std::string_view bytes, size_t* consumed = nullptr);

namespace detail {
FieldTable read_field_table(Reader& in, int depth = 0);
}

}  // namespace squall::amqp

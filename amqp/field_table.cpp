#include "squall/amqp/field_table.hpp"

#include <bit>
#include <string>

#include "squall/amqp/detail/wire.hpp"
#include "squall/amqp/errors.hpp"

namespace squall::amqp {

FieldTable::FieldTable(std::initializer_list<Entry> entries) : entries_(entries) {}

void FieldTable::set(std::string key, FieldValue value) {
    if (FieldValue* existing = find(key)) {
        *existing = std::move(value);
    } else {
        entries_.emplace_back(std::move(key), std::move(value));
    }
}

void FieldTable::append(std::string key, FieldValue value) {
    entries_.emplace_back(std::move(key), std::move(value));
}

const FieldValue* FieldTable::find(std::string_view key) const {
    for (const auto& [k, v] : entries_) {
        if (k == key) return &v;
    }
    return nullptr;
}

FieldValue* FieldTable::find(std::string_view key) {
    for (auto& [k, v] : entries_) {
        if (k == key) return &v;
    }
    return nullptr;
}

size_t FieldTable::erase(std::string_view key) {
    return std::erase_if(entries_, [&](const Entry& e) { return e.first == key; });
}

bool operator==(const FieldTable& a, const FieldTable& b) {
    return a.entries_ == b.entries_;
}

std::optional<int64_t> FieldValue::as_integer() const {
    return std::visit(
        [](const auto& v) -> std::optional<int64_t> {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                return static_cast<int64_t>(v);
            } else {
                return std::nullopt;
            }
        },
        v_);
}

namespace {

// The encoding letter of each variant alternative, in Variant order.
constexpr char kLetters[] = {'V', 't', 'b', 'B', 's', 'u', 'I', 'i', 'l',
                             'f', 'd', 'D', 'S', 'x', 'T', 'A', 'F'};
static_assert(sizeof(kLetters) == std::variant_size_v<FieldValue::Variant>);

void write_table(std::string& out, const FieldTable& table, int depth);

void write_value(std::string& out, const FieldValue& value, int depth) {
    detail::put_u8(out, static_cast<uint8_t>(value.type_letter()));
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
            } else if constexpr (std::is_same_v<T, bool>) {
                detail::put_u8(out, v ? 1 : 0);
            } else if constexpr (std::is_integral_v<T> && sizeof(T) == 1) {
                detail::put_u8(out, static_cast<uint8_t>(v));
            } else if constexpr (std::is_integral_v<T> && sizeof(T) == 2) {
                detail::put_u16(out, static_cast<uint16_t>(v));
            } else if constexpr (std::is_integral_v<T> && sizeof(T) == 4) {
                detail::put_u32(out, static_cast<uint32_t>(v));
            } else if constexpr (std::is_integral_v<T> && sizeof(T) == 8) {
                detail::put_u64(out, static_cast<uint64_t>(v));
            } else if constexpr (std::is_same_v<T, float>) {
                detail::put_u32(out, std::bit_cast<uint32_t>(v));
            } else if constexpr (std::is_same_v<T, double>) {
                detail::put_u64(out, std::bit_cast<uint64_t>(v));
            } else if constexpr (std::is_same_v<T, Decimal>) {
                detail::put_u8(out, v.scale);
                detail::put_u32(out, static_cast<uint32_t>(v.value));
            } else if constexpr (std::is_same_v<T, std::string>) {
                detail::put_longstr(out, v, "field table long string");
            } else if constexpr (std::is_same_v<T, ByteArray>) {
                detail::put_longstr(out, v.bytes, "field table byte array");
            } else if constexpr (std::is_same_v<T, Timestamp>) {
                detail::put_u64(out, v.seconds);
            } else if constexpr (std::is_same_v<T, FieldArray>) {
                if (depth >= kMaxFieldNesting) throw UsageError("cannot encode field array: nested too deep");
                size_t at = out.size();
                detail::put_u32(out, 0);
                for (const FieldValue& item : v) write_value(out, item, depth + 1);
                size_t len = out.size() - at - 4;
                if (len > UINT32_MAX) throw UsageError("cannot encode field array over 4 GiB");
                detail::patch_u32(out, at, static_cast<uint32_t>(len));
            } else {
                static_assert(std::is_same_v<T, FieldTable>);
                write_table(out, v, depth + 1);
            }
        },
        value.variant());
}

void write_table(std::string& out, const FieldTable& table, int depth) {
    if (depth > kMaxFieldNesting) throw UsageError("cannot encode field table: nested too deep");
    size_t at = out.size();
    detail::put_u32(out, 0);
    for (const auto& [key, value] : table) {
        detail::put_shortstr(out, key, "field table key");
        write_value(out, value, depth);
    }
    size_t len = out.size() - at - 4;
    if (len > UINT32_MAX) throw UsageError("cannot encode field table over 4 GiB");
    detail::patch_u32(out, at, static_cast<uint32_t>(len));
}

FieldArray read_array(detail::Reader& in, int depth);

FieldValue read_value(detail::Reader& in, int depth) {
    size_t at = in.offset();
    char letter = static_cast<char>(in.u8("field type letter"));
    switch (letter) {
        case 't':
            return FieldValue(in.u8("boolean field") != 0);
        case 'b':
            return FieldValue(static_cast<int8_t>(in.u8("int8 field")));
        case 'B':
            return FieldValue(in.u8("uint8 field"));
        case 's':  // RabbitMQ's signed short
        case 'U':  // the 0-9-1 spec's (and py-amqp's) signed short
            return FieldValue(static_cast<int16_t>(in.u16("int16 field")));
        case 'u':
            return FieldValue(in.u16("uint16 field"));
        case 'I':
            return FieldValue(static_cast<int32_t>(in.u32("int32 field")));
        case 'i':
            return FieldValue(in.u32("uint32 field"));
        case 'l':  // RabbitMQ's signed 64-bit
        case 'L':  // what py-amqp writes for integers beyond 32 bits
            return FieldValue(static_cast<int64_t>(in.u64("int64 field")));
        case 'f':
            return FieldValue(std::bit_cast<float>(in.u32("float field")));
        case 'd':
            return FieldValue(std::bit_cast<double>(in.u64("double field")));
        case 'D': {
            uint8_t scale = in.u8("decimal scale");
            return FieldValue(Decimal{scale, static_cast<int32_t>(in.u32("decimal value"))});
        }
        case 'S':
            return FieldValue(in.longstr("long string field"));
        case 'x':
            return FieldValue(ByteArray{in.longstr("byte array field")});
        case 'T':
            return FieldValue(Timestamp{in.u64("timestamp field")});
        case 'V':
            return FieldValue();
        case 'A':
            return FieldValue(read_array(in, depth + 1));
        case 'F':
            return FieldValue(detail::read_field_table(in, depth + 1));
        default: {
            std::string msg = "unknown field type letter ";
            auto c = static_cast<unsigned char>(letter);
            if (c >= 0x20 && c < 0x7f) {
                msg += '\'';
                msg += letter;
                msg += '\'';
            } else {
                msg += "byte " + std::to_string(c);
            }
            in.fail(msg, at);
        }
    }
}

// Reads a length-prefixed region and checks that the items decoded inside it end exactly at its end.
template <class ReadItems>
void read_region(detail::Reader& in, const char* what, ReadItems&& read_items) {
    size_t len_at = in.offset();
    uint32_t len = in.u32(what);
    if (len > in.remaining()) {
        in.fail(std::string(what) + " length " + std::to_string(len) + " exceeds the " +
                    std::to_string(in.remaining()) + " bytes left",
                len_at);
    }
    size_t end = in.offset() + len;
    while (in.offset() < end) read_items(end);
    if (in.offset() != end) {
        in.fail(std::string("last item overruns the ") + what + " length " + std::to_string(len) +
                    " (region ends at offset " + std::to_string(end) + ")",
                in.offset());
    }
}

FieldArray read_array(detail::Reader& in, int depth) {
    if (depth > kMaxFieldNesting) in.fail("field arrays and tables nested too deep");
    FieldArray array;
    read_region(in, "field array", [&](size_t) { array.push_back(read_value(in, depth)); });
    return array;
}

}  // namespace

char FieldValue::type_letter() const {
    return kLetters[v_.index()];
}

void encode_field_table(std::string& out, const FieldTable& table) {
    size_t start = out.size();
    try {
        write_table(out, table, 0);
    } catch (...) {
        out.resize(start);
        throw;
    }
}

void encode_field_value(std::string& out, const FieldValue& value) {
    size_t start = out.size();
    try {
        write_value(out, value, 0);
    } catch (...) {
        out.resize(start);
        throw;
    }
}

FieldTable decode_field_table(std::string_view bytes, size_t* consumed) {
    detail::Reader in(bytes, "field table");
    FieldTable table = detail::read_field_table(in);
    if (consumed) {
        *consumed = in.offset();
    } else {
        in.expect_end();
    }
    return table;
}

namespace detail {

FieldTable read_field_table(Reader& in, int depth) {
    if (depth > kMaxFieldNesting) in.fail("field tables and arrays nested too deep");
    FieldTable table;
    read_region(in, "field table", [&](size_t) {
        std::string key = in.shortstr("field table key");
        FieldValue value = read_value(in, depth);
        table.append(std::move(key), std::move(value));
    });
    return table;
}

}  // namespace detail
}  // namespace squall::amqp

// Random values for the generated method and property structs (round-trip and fuzz tests).
#pragma once

#include <optional>
#include <random>
#include <string>
#include <type_traits>

#include "squall/amqp/field_table.hpp"
#include "squall/amqp/spec.hpp"

namespace squall::amqp::test {

class RandomFiller {
public:
    explicit RandomFiller(uint32_t seed) : rng_(seed) {}

    std::string string(size_t max_len) {
        std::string s(pick(0, max_len), '\0');
        for (char& c : s) c = static_cast<char>(pick(0, 255));
        return s;
    }

    FieldValue value(int depth) {
        switch (pick(0, depth > 2 ? 14 : 16)) {
            case 0:
                return FieldValue();
            case 1:
                return pick(0, 1) == 1;
            case 2:
                return static_cast<int8_t>(pick(0, 255));
            case 3:
                return static_cast<uint8_t>(pick(0, 255));
            case 4:
                return static_cast<int16_t>(pick(0, 65535));
            case 5:
                return static_cast<uint16_t>(pick(0, 65535));
            case 6:
                return static_cast<int32_t>(rng_());
            case 7:
                return static_cast<uint32_t>(rng_());
            case 8:
                return static_cast<int64_t>(u64());
            case 9:
                return static_cast<float>(pick(0, 1000)) / 8.0f;
            case 10:
                return static_cast<double>(static_cast<int32_t>(rng_())) / 16.0;
            case 11:
                return Decimal{static_cast<uint8_t>(pick(0, 255)), static_cast<int32_t>(rng_())};
            case 12:
                return string(20);
            case 13:
                return ByteArray{string(20)};
            case 14:
                return Timestamp{u64()};
            case 15: {
                FieldArray a;
                for (size_t i = pick(0, 4); i > 0; --i) a.push_back(value(depth + 1));
                return a;
            }
            default:
                return table(depth + 1);
        }
    }

    FieldTable table(int depth = 0) {
        FieldTable t;
        for (size_t i = pick(0, 5); i > 0; --i) {
            std::string key = string(12);
            t.append(std::move(key), value(depth));
        }
        return t;
    }

    // Fills every field of a generated method or properties struct.
    template <class S>
    void fill(S& s) {
        s.visit_fields([&](const char*, auto& field) { this->assign(field); });
    }

    size_t pick(size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(rng_); }
    uint64_t u64() {
        uint64_t high = rng_();  // sequenced: the same seed gives the same values with every compiler
        return (high << 32) | rng_();
    }
    std::mt19937& rng() { return rng_; }

private:
    template <class T>
    void assign(T& field) {
        if constexpr (std::is_same_v<T, bool>) {
            field = pick(0, 1) == 1;
        } else if constexpr (std::is_integral_v<T>) {
            field = static_cast<T>(u64());
        } else if constexpr (std::is_same_v<T, std::string>) {
            field = string(255);
        } else if constexpr (std::is_same_v<T, FieldTable>) {
            field = table();
        } else if constexpr (std::is_same_v<T, Timestamp>) {
            field = Timestamp{u64()};
        } else {
            // std::optional<...> of a property: set about three times in four.
            if (pick(0, 3) == 0) {
                field.reset();
            } else {
                typename T::value_type v{};
                assign(v);
                field = std::move(v);
            }
        }
    }

    std::mt19937 rng_;
};

}  // namespace squall::amqp::test

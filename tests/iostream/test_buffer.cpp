// squall::Buffer: invariants against a std::string model, growth/compaction bounds, shrink policy.
#include <doctest/doctest.h>

#include <random>
#include <stdexcept>
#include <string>

#include "squall/iostream/block_pool.hpp"
#include "squall/iostream/buffer.hpp"

using squall::Buffer;

TEST_CASE("Buffer matches a std::string model under random prepare/commit/consume sequences") {
    for (unsigned seed = 1; seed <= 20; ++seed) {
        std::mt19937 rng(seed);
        Buffer buf;
        std::string model;
        size_t max_size = 0;
        size_t max_request = 0;
        char next = 0;
        for (int step = 0; step < 5000; ++step) {
            const int op = static_cast<int>(rng() % 10);
            if (op < 5) {
                // Append: prepare a random minimum, commit some of what was offered.
                const size_t min_bytes = rng() % (rng() % 8 == 0 ? 20000 : 600);
                auto span = buf.prepare(min_bytes);
                REQUIRE(span.size() >= std::max<size_t>(min_bytes, 1));
                REQUIRE(span.data() == buf.data() + buf.size());
                const size_t n = std::min(span.size(), static_cast<size_t>(rng() % (min_bytes + 1)));
                for (size_t i = 0; i < n; ++i) span[i] = next++;
                model.append(span.data(), n);
                buf.commit(n);
                max_request = std::max(max_request, min_bytes);
            } else if (op < 8) {
                const size_t n = model.empty() ? 0 : rng() % (model.size() + 1);
                buf.consume(n);
                model.erase(0, n);
            } else if (op == 8) {
                const size_t n = model.empty() ? 0 : rng() % (model.size() + 1);
                REQUIRE(buf.take(n) == model.substr(0, n));
                model.erase(0, n);
            } else {
                const std::string needle =
                    model.size() > 3 ? model.substr(rng() % (model.size() - 2), 2) : "ab";
                const size_t from = model.empty() ? 0 : rng() % model.size();
                REQUIRE(buf.find(needle, from) == model.find(needle, from));
            }
            max_size = std::max(max_size, model.size());
            REQUIRE(buf.size() == model.size());
            REQUIRE(buf.view() == model);
            REQUIRE(buf.empty() == model.empty());
            // Growth is bounded: doubling happens only when the readable bytes fill most of the capacity.
            REQUIRE(buf.capacity() <= std::max<size_t>(Buffer::kMinCapacity, 4 * max_size + 2 * max_request));
        }
    }
}

TEST_CASE("Buffer steady read/consume pattern does not reallocate") {
    Buffer buf;
    // Warm up to the working size, then run the recv-parse-consume loop many times.
    for (int i = 0; i < 10; ++i) {
        buf.commit(buf.prepare(4096).size() > 3000 ? 3000 : 0);
        buf.consume(buf.size() > 1000 ? 1000 : 0);
    }
    const size_t capacity = buf.capacity();
    std::mt19937 rng(7);
    for (int i = 0; i < 100000; ++i) {
        auto span = buf.prepare(1500);
        const size_t n = 1 + rng() % 1500;
        buf.commit(std::min(n, span.size()));
        // Consume about as much as arrives, leaving a partial message behind most of the time.
        const size_t c = std::min(buf.size(), static_cast<size_t>(rng() % 1700));
        buf.consume(c);
        if (buf.size() > 3000) buf.consume(buf.size() - 100);
        REQUIRE(buf.capacity() == capacity);
    }
}

TEST_CASE("Buffer consuming everything restarts at the front without a move") {
    Buffer buf(64);
    buf.append("hello world");
    const char* front = buf.data();
    buf.consume(11);
    CHECK(buf.empty());
    buf.append("x");
    CHECK(buf.data() == front);
    CHECK(buf.view() == "x");
}

TEST_CASE("Buffer usage errors are reported, not undefined") {
    Buffer buf;
    buf.append("abc");
    CHECK_THROWS_AS(buf.consume(4), std::out_of_range);
    CHECK_THROWS_AS(buf.take(4), std::out_of_range);
    auto span = buf.prepare(10);
    CHECK_THROWS_AS(buf.commit(span.size() + 1), std::out_of_range);
    CHECK(buf.view() == "abc");
}

TEST_CASE("Buffer find handles delimiters split across appends and bounds") {
    Buffer buf;
    buf.append("GET / HTTP/1.1\r");
    CHECK(buf.find("\r\n") == Buffer::npos);
    buf.append("\nHost: x\r\n\r\n");
    CHECK(buf.find("\r\n") == 14);
    CHECK(buf.find("\r\n\r\n") == buf.size() - 4);
    CHECK(buf.find("\r\n", 15) == buf.size() - 4);
    CHECK(buf.find("x", buf.size()) == Buffer::npos);
    CHECK(buf.find("x", buf.size() + 5) == Buffer::npos);
    CHECK(buf.find("", 3) == 3);
}

TEST_CASE("Buffer shrink releases memory of idle connections") {
    Buffer buf;
    buf.append(std::string(1 << 20, 'a'));
    CHECK(buf.capacity() >= (1u << 20));
    buf.consume(buf.size() - 10000);
    CHECK(buf.shrink());
    CHECK(buf.capacity() == 10000);
    CHECK(buf.view() == std::string(10000, 'a'));
    buf.consume(buf.size());
    CHECK(buf.shrink());
    CHECK(buf.capacity() == Buffer::kIdleCapacity);
    CHECK_FALSE(buf.shrink());  // already small
    CHECK(buf.shrink(0));
    CHECK(buf.capacity() == 0);
    buf.append("again");
    CHECK(buf.view() == "again");
}

TEST_CASE("Buffer moves transfer the bytes") {
    Buffer a;
    a.append("payload");
    Buffer b(std::move(a));
    CHECK(b.view() == "payload");
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    Buffer c;
    c = std::move(b);
    CHECK(c.view() == "payload");
    a.append("reuse");
    CHECK(a.view() == "reuse");
}

TEST_CASE("Buffer gives its storage to a BlockPool only when empty, and takes a pooled block back") {
    auto& pool = squall::BlockPool::local();
    Buffer buf;
    buf.take_storage(8192);
    CHECK(buf.capacity() == 8192);
    buf.append("abc");
    const char* block = buf.data();
    CHECK_FALSE(buf.give_storage());  // bytes buffered: kept
    CHECK(buf.capacity() == 8192);
    buf.consume(3);
    const std::size_t free_before = pool.free_chunks(8192);
    CHECK(buf.give_storage());
    CHECK(buf.capacity() == 0);
    CHECK(pool.free_chunks(8192) == free_before + 1);
    Buffer other;
    other.take_storage(8192);  // the same block, from the pool
    CHECK(pool.free_chunks(8192) == free_before);
    other.append("xyz");
    CHECK(other.data() == block);
    CHECK(other.view() == "xyz");
    other.take_storage(4096);  // has storage: no-op
    CHECK(other.capacity() == 8192);
    other.append(std::string(10000, 'g'));  // outgrows the chunk: copied to new storage, the chunk pooled
    CHECK(other.view() == "xyz" + std::string(10000, 'g'));
    CHECK(pool.free_chunks(8192) == free_before + 1);
    Buffer next;
    next.take_storage(8192);  // the outgrown chunk, not a new mapping
    CHECK(next.data() == block);
    CHECK(pool.free_chunks(8192) == free_before);
    other.clear();
    CHECK(other.give_storage());  // not a pooled chunk: freed, not pooled
    CHECK(pool.free_chunks(8192) == free_before);
}

// squall::WriteQueue: iovec gathering, partial advances, coalescing, IOV_MAX, completion counters.
#include <doctest/doctest.h>

#include <array>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "squall/iostream/block_pool.hpp"
#include "squall/iostream/write_queue.hpp"

using squall::WriteQueue;

namespace {

std::string random_bytes(std::mt19937& rng, size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

}  // namespace

TEST_CASE("WriteQueue delivers every byte in order under random partial writes") {
    for (unsigned seed = 1; seed <= 4; ++seed) {
        std::mt19937 rng(seed);
        WriteQueue q;
        std::string expected, written;
        std::vector<iovec> iov(WriteQueue::kMaxIovecs);
        for (int step = 0; step < 3000; ++step) {
            if (rng() % 3 != 0) {
                const size_t n = rng() % 4 == 0 ? rng() % 70000 : rng() % 300;
                std::string data = random_bytes(rng, n);
                expected += data;
                if (rng() % 2) {
                    q.append(std::move(data));
                } else {
                    q.append(std::string_view(data));
                }
            } else {
                // A "kernel" that takes a random prefix of what was gathered.
                const size_t count = q.gather(iov, rng() % 2 ? SIZE_MAX : rng() % 100000);
                size_t offered = 0;
                for (size_t i = 0; i < count; ++i) offered += iov[i].iov_len;
                const size_t take = offered == 0 ? 0 : rng() % (offered + 1);
                size_t left = take;
                for (size_t i = 0; i < count && left > 0; ++i) {
                    const size_t n = std::min(left, iov[i].iov_len);
                    written.append(static_cast<const char*>(iov[i].iov_base), n);
                    left -= n;
                }
                q.advance(take);
            }
            REQUIRE(q.size() == expected.size() - written.size());
            REQUIRE(q.appended_total() == expected.size());
            REQUIRE(q.written_total() == written.size());
        }
        while (!q.empty()) {
            const size_t count = q.gather(iov);
            size_t n = 0;
            for (size_t i = 0; i < count; ++i) {
                written.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
                n += iov[i].iov_len;
            }
            q.advance(n);
        }
        REQUIRE(written == expected);
    }
}

TEST_CASE("WriteQueue coalesces small writes into few iovecs") {
    WriteQueue q;
    for (int i = 0; i < 3000; ++i) q.append(std::string_view("frame-header+payload+end"));  // 24 bytes
    CHECK(q.size() == 3000 * 24);
    CHECK(q.chunk_count() <= (3000 * 24) / WriteQueue::kBlockSize + 1);
}

TEST_CASE("WriteQueue gather stops at IOV_MAX and at the caller's array size") {
    WriteQueue q;
    for (size_t i = 0; i < WriteQueue::kMaxIovecs + 10; ++i) q.append(std::string(2000, 'x'));
    std::vector<iovec> big(WriteQueue::kMaxIovecs + 100);
    CHECK(q.gather(big) == WriteQueue::kMaxIovecs);
    std::array<iovec, 4> small{};
    CHECK(q.gather(small) == 4);
    CHECK(q.gather(small, 4500) == 3);
    CHECK(small[2].iov_len == 500);
}

TEST_CASE("WriteQueue iovecs stay valid while more is appended (in-flight send)") {
    WriteQueue q;
    q.append(std::string_view("first small write"));
    q.append(std::string(5000, 'B'));
    std::array<iovec, 8> iov{};
    const size_t count = q.gather(iov);
    REQUIRE(count == 2);
    const std::string before0(static_cast<const char*>(iov[0].iov_base), iov[0].iov_len);
    // Many appends: new chunks, vector growth, more bytes into the first block.
    for (int i = 0; i < 500; ++i) {
        q.append(std::string_view("more"));
        q.append(std::string(1500, static_cast<char>('a' + i % 26)));
    }
    CHECK(std::string(static_cast<const char*>(iov[0].iov_base), iov[0].iov_len) == before0);
    CHECK(std::string(static_cast<const char*>(iov[1].iov_base), iov[1].iov_len) == std::string(5000, 'B'));
    q.advance(iov[0].iov_len + iov[1].iov_len);
    CHECK(q.gather(iov) > 0);
    CHECK(std::string_view(static_cast<const char*>(iov[0].iov_base), 4) == "more");
}

TEST_CASE("WriteQueue counters tell when a given write is flushed") {
    WriteQueue q;
    q.append(std::string_view("abc"));
    const uint64_t mark1 = q.appended_total();
    q.append(std::string(3000, 'z'));
    const uint64_t mark2 = q.appended_total();
    q.advance(2);
    CHECK(q.written_total() < mark1);
    q.advance(1);
    CHECK(q.written_total() >= mark1);
    CHECK(q.written_total() < mark2);
    q.advance(3000);
    CHECK(q.written_total() == mark2);
    CHECK(q.empty());
    CHECK_THROWS_AS(q.advance(1), std::out_of_range);
    q.append(std::string_view("x"));
    q.clear();
    CHECK(q.empty());
    CHECK(q.chunk_count() == 0);
}

TEST_CASE("WriteQueue appending into a gathered block leaves the gathered bytes untouched") {
    WriteQueue q;
    q.append(std::string_view("head"));
    std::array<iovec, 2> iov{};
    REQUIRE(q.gather(iov) == 1);
    const char* base = static_cast<const char*>(iov[0].iov_base);
    for (int i = 0; i < 10000; ++i) q.append(std::string_view("0123456789"));
    CHECK(std::string_view(base, 4) == "head");  // same storage, not reallocated (ASan would flag it)
    q.advance(4);
    std::vector<iovec> all(64);
    const size_t count = q.gather(all);
    std::string rest;
    for (size_t i = 0; i < count; ++i) rest.append(static_cast<const char*>(all[i].iov_base), all[i].iov_len);
    CHECK(rest.size() == 100000);
    CHECK(rest.substr(0, 20) == "01234567890123456789");
}

TEST_CASE("release_spare gives the spare block to the thread's pool; later small writes take one back") {
    auto& pool = squall::BlockPool::local();
    const auto pooled = [&] { return pool.free_chunks(WriteQueue::kBlockSize); };
    std::vector<WriteQueue> queues(squall::BlockPool::kMaxFree + 8);
    for (auto& q : queues) {
        q.append(std::string_view("head"));
        CHECK(q.held_capacity() == WriteQueue::kBlockSize);
        CHECK_FALSE(q.release_spare());  // pending bytes: nothing given
        q.advance(4);
        CHECK(q.held_capacity() == WriteQueue::kBlockSize);  // the drained block stays as the spare
    }
    for (auto& q : queues) {
        CHECK(q.release_spare());
        CHECK(q.held_capacity() == 0);  // also for those the full pool freed
    }
    CHECK(pool.free_chunks() == squall::BlockPool::kMaxFree);
    const std::size_t before = pooled();
    WriteQueue q;
    q.append(std::string_view("again"));
    CHECK(pooled() == before - 1);
    q.append(std::string(2000, 'L'));    // its own string, not a block
    q.append(std::string_view("tail"));  // a second block after the string
    CHECK(pooled() == before - 2);
    std::array<iovec, 4> iov;
    REQUIRE(q.gather(iov) == 3);
    CHECK(std::string_view(static_cast<const char*>(iov[0].iov_base), iov[0].iov_len) == "again");
    CHECK(std::string_view(static_cast<const char*>(iov[2].iov_base), iov[2].iov_len) == "tail");
    q.advance(q.size());
    CHECK(q.held_capacity() == WriteQueue::kBlockSize);  // one spare kept, the other back in the pool
    CHECK(pooled() == before - 1);
    WriteQueue moved(std::move(q));
    CHECK(moved.held_capacity() == WriteQueue::kBlockSize);
    CHECK(q.held_capacity() == 0);
}

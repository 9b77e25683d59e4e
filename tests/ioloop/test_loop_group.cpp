// LoopGroup: work handed to a chosen loop runs on that loop's thread and comes back to the awaiting
// loop; errors cross back; I/O works on every loop; stop and join are clean and idempotent.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <squall/testing.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "squall/coro/gather.hpp"
#include "squall/coro/locks.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/loop_group.hpp"
#include "support.hpp"

using namespace std::chrono_literals;

namespace {

struct Where {
    std::thread::id thread;
    squall::IOLoop* loop;
};

squall::Task<Where> where_am_i() {
    co_await squall::sleep(1ms);  // a real suspension on the target loop's timers
    co_return Where{std::this_thread::get_id(), &squall::IOLoop::current()};
}

squall::Task<int> fail_there() {
    co_await squall::sleep(1ms);
    throw std::runtime_error("failed on the other loop");
}

// One round trip over a loopback TCP pair, both ends on the current loop (ops: accept, connect, send, recv).
squall::Task<std::string> echo_once(std::string msg) {
    squall::IOLoop& loop = squall::IOLoop::current();
    const squall::test::LoopbackConnection fds = co_await squall::test::connect_loopback(loop);
    const int lfd = fds.listener, cfd = fds.client, sfd = fds.server;
    int sent = co_await loop.send(cfd, msg.data(), msg.size());
    REQUIRE(sent == static_cast<int>(msg.size()));
    std::string got(msg.size(), '\0');
    std::size_t have = 0;
    while (have < got.size()) {
        int n = co_await loop.recv(sfd, got.data() + have, got.size() - have);
        REQUIRE(n > 0);
        have += static_cast<std::size_t>(n);
    }
    loop.close_fd(sfd);
    loop.close_fd(cfd);
    loop.close_fd(lfd);
    co_return got;
}

}  // namespace

TEST_SUITE("ioloop") {
    SQUALL_TEST_CASE("LoopGroup::on runs the task on the chosen loop's thread and resumes on the caller's",
                     10s) {
        squall::LoopGroup group({.threads = 2, .backend = loop.backend()});
        REQUIRE(group.size() == 2);
        for (std::size_t i = 0; i < group.size(); ++i) {
            CHECK(group.loop(i).backend() == loop.backend());
            auto there = group.on(i, where_am_i());
            Where w = co_await there;
            CHECK(w.loop == &group.loop(i));
            CHECK(w.thread != std::this_thread::get_id());
            CHECK(&squall::IOLoop::current() == &loop);  // back on the test's loop
        }
        auto on0 = group.on(0, where_am_i());
        auto on1 = group.on(1, where_am_i());
        Where a = co_await on0;
        Where b = co_await on1;
        CHECK(a.thread != b.thread);
    }

    SQUALL_TEST_CASE("LoopGroup::on rethrows the task's error in the awaiting coroutine", 10s) {
        squall::LoopGroup group({.threads = 2, .backend = loop.backend()});
        bool caught = false;
        try {
            auto there = group.on(1, fail_there());
            (void)co_await there;
        } catch (const std::runtime_error& e) {
            caught = std::string(e.what()) == "failed on the other loop";
        }
        CHECK(caught);
        CHECK(&squall::IOLoop::current() == &loop);
    }

    SQUALL_TEST_CASE("LoopGroup: socket ops run on every loop, concurrently", 20s) {
        squall::LoopGroup group({.threads = 2, .backend = loop.backend()});
        std::vector<squall::Task<std::string>> tasks;
        for (int k = 0; k < 16; ++k) {
            std::size_t i = static_cast<std::size_t>(k) % group.size();
            tasks.push_back([](squall::LoopGroup& g, std::size_t i, int k) -> squall::Task<std::string> {
                std::string msg = "message " + std::to_string(k);
                auto there = g.on(i, echo_once(msg));
                co_return co_await there;
            }(group, i, k));
        }
        std::vector<std::string> got = co_await squall::gather(std::move(tasks));
        REQUIRE(got.size() == 16);
        for (int k = 0; k < 16; ++k) CHECK(got[k] == "message " + std::to_string(k));
    }

    SQUALL_TEST_CASE("LoopGroup: many hand-offs between loops keep every result", 30s) {
        squall::LoopGroup group({.threads = 3, .backend = loop.backend()});
        // A chain hops loop 0 -> 1 -> 2 -> 0 ... from inside the group's own loops.
        struct Hop {
            static squall::Task<int> run(squall::LoopGroup& g, std::size_t at, int left) {
                if (left == 0) co_return 0;
                std::size_t next = (at + 1) % g.size();
                auto there = g.on(next, run(g, next, left - 1));
                int rest = co_await there;
                co_return rest + 1;
            }
        };
        std::vector<squall::Task<int>> chains;
        for (int c = 0; c < 8; ++c) {
            chains.push_back([](squall::LoopGroup& g) -> squall::Task<int> {
                auto there = g.on(0, Hop::run(g, 0, 50));
                co_return co_await there;
            }(group));
        }
        std::vector<int> hops = co_await squall::gather(std::move(chains));
        for (int h : hops) CHECK(h == 50);
    }
}

TEST_SUITE("ioloop") {
    TEST_CASE("LoopGroup: submit runs work on its loop; stop and join are clean and idempotent") {
        for (squall::Backend backend : {squall::Backend::epoll, squall::Backend::uring}) {
            if (backend == squall::Backend::uring && squall::testing::skip_uring()) {
                MESSAGE("io_uring part skipped: " << squall::testing::uring_unavailable_reason());
                continue;
            }
            CAPTURE(backend);
            squall::LoopGroup group({.threads = 2, .backend = backend});
            std::atomic<int> ran{0};
            std::mutex m;
            std::condition_variable cv;
            std::vector<std::thread::id> threads(2);
            for (std::size_t i = 0; i < 2; ++i) {
                group.submit(i, [&, i] {
                    std::lock_guard lock(m);
                    threads[i] = std::this_thread::get_id();
                    ++ran;
                    cv.notify_all();
                });
            }
            // A task: its first step runs on the loop, the rest after a timer there.
            group.submit(
                1,
                [](std::atomic<int>& ran, std::mutex& m, std::condition_variable& cv) -> squall::Task<void> {
                    co_await squall::sleep(2ms);
                    std::lock_guard lock(m);
                    ++ran;
                    cv.notify_all();
                }(ran, m, cv));
            {
                std::unique_lock lock(m);
                REQUIRE(cv.wait_for(lock, 10s, [&] { return ran.load() == 3; }));
                CHECK(threads[0] != threads[1]);
                CHECK(threads[0] != std::this_thread::get_id());
            }
            group.stop();
            group.stop();
            CHECK_THROWS_AS(group.submit(0, [] {}), squall::UsageError);
            group.join();
            group.join();
        }
    }

    TEST_CASE("LoopGroup: work submitted before stop() still starts") {
        std::atomic<int> ran{0};
        {
            squall::LoopGroup group({.threads = 2, .backend = squall::Backend::epoll});
            for (int k = 0; k < 100; ++k) group.submit(static_cast<std::size_t>(k % 2), [&ran] { ++ran; });
        }  // the destructor stops and joins
        CHECK(ran.load() == 100);
    }

    TEST_CASE("LoopGroup: no threads is a usage error; loop() checks its index") {
        CHECK_THROWS_AS(squall::LoopGroup({.threads = 0}), squall::UsageError);
        squall::LoopGroup ok({.threads = 1});
        CHECK_THROWS_AS((void)ok.loop(1), squall::UsageError);
    }
}

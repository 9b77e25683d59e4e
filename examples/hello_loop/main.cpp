// hello_loop: a tour of squall's event loop in one screen.
//
// Timers with call_later, a callback handed over from another std::thread, a PeriodicCallback ticking
// three times, and a gather of three sleeps that finish in order of length, all run by run_sync under
// a timeout. Prints the backend it used (SQUALL_IOLOOP=epoll|uring forces one).
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "squall/coro/gather.hpp"
#include "squall/coro/locks.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/ioloop/periodic_callback.hpp"

using namespace std::chrono_literals;

squall::Task<std::string> nap(squall::Duration d, std::string name) {
    co_await squall::sleep(d);
    std::printf("  %s woke up\n", name.c_str());
    co_return name;
}

squall::Task<int> tour(squall::IOLoop& loop) {
    loop.call_later(20ms, [] { std::puts("timer: 20 ms"); });
    loop.call_later(10ms, [] { std::puts("timer: 10 ms (added second, fires first)"); });
    co_await squall::sleep(30ms);

    squall::Event from_thread;
    std::thread worker([&] {
        loop.add_callback([&] {
            std::puts("callback from a worker thread");
            from_thread.set();
        });
    });
    co_await from_thread.wait();
    worker.join();

    int ticks = 0;
    squall::Event ticked_three_times;
    squall::PeriodicCallback ticker(
        loop,
        [&] {
            std::printf("tick %d\n", ++ticks);
            if (ticks == 3) ticked_three_times.set();
        },
        15ms);
    ticker.start();
    co_await ticked_three_times.wait();
    ticker.stop();

    std::puts("gather of three sleeps:");
    auto [a, b, c] = co_await squall::gather(nap(30ms, "slow"), nap(10ms, "fast"), nap(20ms, "medium"));
    std::printf("gather returned in argument order: %s %s %s\n", a.c_str(), b.c_str(), c.c_str());
    co_return ticks;
}

int main() {
    try {
        squall::IOLoop loop;
        std::printf("backend: %s\n", std::string(squall::to_string(loop.backend())).c_str());
        int ticks = loop.run_sync(tour(loop), 5s);
        return ticks == 3 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hello_loop: %s\n", e.what());
        return 1;
    }
}

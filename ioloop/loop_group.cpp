#include "squall/ioloop/loop_group.hpp"

#include <pthread.h>
#include <sched.h>

#include <string>

namespace squall {
namespace {

// CPU number `i` among the CPUs this process may run on (modulo their count); -1 when unknown.
int nth_allowed_cpu(std::size_t i) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    int count = CPU_COUNT(&set);
    if (count <= 0) return -1;
    int want = static_cast<int>(i % static_cast<std::size_t>(count));
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set) && want-- == 0) return cpu;
    }
    return -1;
}

}  // namespace

LoopGroup::LoopGroup(LoopGroupOptions options) {
    if (options.threads == 0) throw UsageError("LoopGroup needs at least one thread");
    slots_.resize(options.threads);
    for (std::size_t i = 0; i < options.threads; ++i) {
        try {
            slots_[i].thread = std::thread([this, i, options] { thread_main(i, options); });
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!build_error_) build_error_ = std::current_exception();
            built_ += options.threads - i;  // the threads that never started
            break;
        }
    }
    std::exception_ptr error;
    {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return built_ == slots_.size(); });
        error = build_error_;
    }
    if (error) {  // the loops that were built saw the error too and did not run
        stopped_.store(true);
        join();
        std::rethrow_exception(error);
    }
}

LoopGroup::~LoopGroup() {
    stop();
    join();
}

void LoopGroup::thread_main(std::size_t i, LoopGroupOptions options) {
    if (options.pin_threads) {
        if (int cpu = nth_allowed_cpu(i); cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
        }
    }
    std::unique_ptr<IOLoop> loop;
    try {
        loop = std::make_unique<IOLoop>(options.backend);
    } catch (...) {
        std::lock_guard lock(mutex_);
        if (!build_error_) build_error_ = std::current_exception();
        ++built_;
        cv_.notify_all();
        return;
    }
    std::unique_lock lock(mutex_);
    slots_[i].loop = std::move(loop);
    ++built_;
    ++running_;
    cv_.notify_all();
    // Runs only when every loop could be built (the constructor throws otherwise).
    cv_.wait(lock, [&] { return built_ == slots_.size(); });
    if (!build_error_) {
        IOLoop& l = *slots_[i].loop;
        lock.unlock();
        l.run();
        lock.lock();
    }
    // Other loops may still post to this one until they stop: the loop is destroyed, on its own thread,
    // once none runs.
    if (--running_ == 0) cv_.notify_all();
    cv_.wait(lock, [&] { return running_ == 0; });
    std::unique_ptr<IOLoop> mine = std::move(slots_[i].loop);
    lock.unlock();
    mine.reset();
}

IOLoop& LoopGroup::loop(std::size_t i) const {
    if (i >= slots_.size())
        throw UsageError("LoopGroup::loop: index " + std::to_string(i) + " out of range (size " +
                         std::to_string(slots_.size()) + ")");
    IOLoop* l = slots_[i].loop.get();
    if (!l) throw UsageError("LoopGroup::loop: the group has ended");
    return *l;
}

void LoopGroup::check_open() const {
    if (stopped_.load(std::memory_order_acquire)) throw UsageError("LoopGroup is stopped");
}

void LoopGroup::submit(std::size_t i, Callback fn) {
    check_open();
    loop(i).add_callback(std::move(fn));
}

void LoopGroup::submit(std::size_t i, Task<void> task) {
    check_open();
    loop(i).add_callback([t = std::move(task)]() mutable { (void)::squall::start(std::move(t)); });
}

void LoopGroup::stop() {
    if (stopped_.exchange(true)) return;
    std::lock_guard lock(mutex_);  // a loop thread that ended moves its loop out under it
    for (Slot& s : slots_) {
        if (!s.loop) continue;  // never built (the constructor is failing)
        IOLoop* l = s.loop.get();
        l->add_callback([l] { l->stop(); });
    }
}

void LoopGroup::join() {
    if (joined_) return;
    for (Slot& s : slots_) {
        if (s.thread.get_id() == std::this_thread::get_id())
            throw UsageError("LoopGroup::join from one of its own loops");
    }
    for (Slot& s : slots_)
        if (s.thread.joinable()) s.thread.join();
    joined_ = true;
}

}  // namespace squall

// gather: await several awaitables concurrently.
//
//     auto [a, b] = co_await squall::gather(fetch_a(), fetch_b());     // tuple of results
//     std::vector<int> all = co_await squall::gather(std::move(tasks)); // vector of Task<int>
//
// Every child runs to completion. If any failed, the first error (in completion order) is rethrown
// after all of them finished; later errors are logged, never dropped silently. A void result is
// std::monostate in the tuple. when_all is the same function under its C++ name.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"

namespace squall {
namespace detail {

void log_secondary_exception(const std::exception_ptr& e) noexcept;

struct GatherCounter {
    std::size_t remaining;
    std::coroutine_handle<> parent;
    std::exception_ptr first_error;

    void record_error(std::exception_ptr e) {
        if (!first_error)
            first_error = std::move(e);
        else
            log_secondary_exception(e);
    }
    void child_done() {
        if (--remaining == 0) parent.resume();
    }
};

template <class A, class Slot>
Detached gather_child(A awaitable, Slot* slot, GatherCounter* counter) {
    try {
        if constexpr (std::is_void_v<await_result_t<A>>) {
            co_await std::move(awaitable);
            slot->emplace();
        } else {
            slot->emplace(co_await std::move(awaitable));
        }
    } catch (...) {
        counter->record_error(std::current_exception());
    }
    counter->child_done();
}

template <class... A>
class TupleGather {
public:
    using Results = std::tuple<StoredType<await_result_t<A>>...>;

    explicit TupleGather(A&&... a) : awaitables_(std::move(a)...) {}

    bool await_ready() const noexcept { return sizeof...(A) == 0; }
    bool await_suspend(std::coroutine_handle<> h) {
        counter_.remaining = sizeof...(A) + 1;  // +1 so children finishing inline cannot resume us early
        counter_.parent = h;
        launch(std::index_sequence_for<A...>{});
        return --counter_.remaining != 0;
    }
    Results await_resume() {
        if (counter_.first_error) std::rethrow_exception(counter_.first_error);
        return unpack(std::index_sequence_for<A...>{});
    }

private:
    template <std::size_t... I>
    void launch(std::index_sequence<I...>) {
        (gather_child(std::move(std::get<I>(awaitables_)), &std::get<I>(slots_), &counter_), ...);
    }
    template <std::size_t... I>
    Results unpack(std::index_sequence<I...>) {
        return Results(std::move(*std::get<I>(slots_))...);
    }

    std::tuple<A...> awaitables_;
    std::tuple<std::optional<StoredType<await_result_t<A>>>...> slots_;
    GatherCounter counter_{};
};

template <class A>
class VectorGather {
public:
    using R = StoredType<await_result_t<A>>;

    explicit VectorGather(std::vector<A> a) : awaitables_(std::move(a)), slots_(awaitables_.size()) {}

    bool await_ready() const noexcept { return awaitables_.empty(); }
    bool await_suspend(std::coroutine_handle<> h) {
        counter_.remaining = awaitables_.size() + 1;
        counter_.parent = h;
        for (std::size_t i = 0; i < awaitables_.size(); ++i)
            gather_child(std::move(awaitables_[i]), &slots_[i], &counter_);
        return --counter_.remaining != 0;
    }
    auto await_resume() {
        if (counter_.first_error) std::rethrow_exception(counter_.first_error);
        if constexpr (std::is_void_v<await_result_t<A>>) {
            return;
        } else {
            std::vector<R> out;
            out.reserve(slots_.size());
            for (auto& s : slots_) out.push_back(std::move(*s));
            return out;
        }
    }

private:
    std::vector<A> awaitables_;
    std::vector<std::optional<R>> slots_;
    GatherCounter counter_{};
};

}  // namespace detail

// Awaits every awaitable concurrently; the result is a std::tuple of their results (std::monostate for
// void). The first error is rethrown once all have finished.
template <class... A>
[[nodiscard]] auto gather(A... awaitables) {
    return detail::TupleGather<A...>(std::move(awaitables)...);
}

// The same over a vector: the result is a std::vector of the results, in input order (void for void).
template <class A>
[[nodiscard]] auto gather(std::vector<A> awaitables) {
    return detail::VectorGather<A>(std::move(awaitables));
}

// gather under its C++ name.
template <class... A>
[[nodiscard]] auto when_all(A&&... a) {
    return gather(std::forward<A>(a)...);
}

}  // namespace squall

// UniqueFunction: a move-only std::function with a small inline buffer, so the loop's callbacks and
// timers do not allocate for captures up to kInlineSize bytes (a pointer or two plus a handle).
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace squall {

template <class Signature>
class UniqueFunction;

// A move-only callable holding any F invocable as R(Args...). Callables of at most kInlineSize bytes
// (with a nothrow move) live inline; larger ones on the heap.
template <class R, class... Args>
class UniqueFunction<R(Args...)> {
public:
    static constexpr std::size_t kInlineSize = 48;  // bytes of capture stored without allocating

    // Empty (operator bool is false; calling it is undefined behaviour).
    UniqueFunction() noexcept = default;
    UniqueFunction(std::nullptr_t) noexcept {}  // empty, as the default

    // Takes f (moved or copied in).
    template <
        class F, class D = std::decay_t<F>,
        class = std::enable_if_t<!std::is_same_v<D, UniqueFunction> && std::is_invocable_r_v<R, D&, Args...>>>
    UniqueFunction(F&& f) {
        if constexpr (sizeof(D) <= kInlineSize && alignof(D) <= alignof(std::max_align_t) &&
                      std::is_nothrow_move_constructible_v<D>) {
            ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
            ops_ = &kInlineOps<D>;
        } else {
            *reinterpret_cast<D**>(storage_) = new D(std::forward<F>(f));
            ops_ = &kHeapOps<D>;
        }
    }

    // Moving leaves `other` empty.
    UniqueFunction(UniqueFunction&& other) noexcept : ops_(other.ops_) {
        if (ops_) {
            ops_->move(other.storage_, storage_);
            other.ops_ = nullptr;
        }
    }

    // Destroys the held callable, then takes other's (leaving it empty).
    UniqueFunction& operator=(UniqueFunction&& other) noexcept {
        if (this != &other) {
            reset();
            ops_ = other.ops_;
            if (ops_) {
                ops_->move(other.storage_, storage_);
                other.ops_ = nullptr;
            }
        }
        return *this;
    }

    // Destroys the held callable (same as reset()).
    UniqueFunction& operator=(std::nullptr_t) noexcept {
        reset();
        return *this;
    }

    ~UniqueFunction() { reset(); }

    // Holds a callable.
    explicit operator bool() const noexcept { return ops_ != nullptr; }

    // Calls the held callable; must not be empty.
    R operator()(Args... args) { return ops_->call(storage_, std::forward<Args>(args)...); }

    // Destroys the held callable; *this becomes empty.
    void reset() noexcept {
        if (ops_) {
            ops_->destroy(storage_);
            ops_ = nullptr;
        }
    }

private:
    struct Ops {
        R (*call)(void*, Args&&...);
        void (*move)(void* from, void* to) noexcept;
        void (*destroy)(void*) noexcept;
    };

    template <class D>
    static constexpr Ops kInlineOps{
        [](void* s, Args&&... args) -> R { return (*static_cast<D*>(s))(std::forward<Args>(args)...); },
        [](void* from, void* to) noexcept {
            ::new (to) D(std::move(*static_cast<D*>(from)));
            static_cast<D*>(from)->~D();
        },
        [](void* s) noexcept { static_cast<D*>(s)->~D(); }};

    template <class D>
    static constexpr Ops kHeapOps{
        [](void* s, Args&&... args) -> R { return (**static_cast<D**>(s))(std::forward<Args>(args)...); },
        [](void* from, void* to) noexcept { *static_cast<D**>(to) = *static_cast<D**>(from); },
        [](void* s) noexcept { delete *static_cast<D**>(s); }};

    alignas(std::max_align_t) unsigned char storage_[kInlineSize];
    const Ops* ops_ = nullptr;
};

// The loop's callback type.
using Callback = UniqueFunction<void()>;

}  // namespace squall

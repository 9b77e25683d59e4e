// The event loop's errors.
//
// Loop-agnostic errors (Error, TimeoutError, CancelledError, UsageError) are in squall/coro/errors.hpp;
// this header adds the one a loop raises when the backend it was asked for cannot start.
#pragma once

#include "squall/coro/errors.hpp"

namespace squall {

// IOLoop(Backend::uring), or SQUALL_IOLOOP=uring, on a host that refuses io_uring (kernel built without
// it, sysctl kernel.io_uring_disabled, a container's seccomp profile). The message is one line naming
// the cause and the way out, e.g. "io_uring backend unavailable (io_uring_setup: Operation not
// permitted); use epoll instead: SQUALL_IOLOOP=epoll, or Backend::epoll / Backend::automatic".
// Backend::automatic never raises it: it falls back to epoll.
class BackendUnavailableError : public Error {
public:
    using Error::Error;
};

}  // namespace squall

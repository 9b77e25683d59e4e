// squall's error hierarchy, root and loop-agnostic errors.
//
// Every error squall raises derives from squall::Error, so `catch (const squall::Error&)` catches all of
// them. Errors travel through futures as std::exception_ptr and are rethrown at co_await.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace squall {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An operation did not finish in time. The message says which timeout expired (e.g. "connect_timeout
// of 20s expired while connecting to 127.0.0.1:80").
class TimeoutError : public Error {
public:
    using Error::Error;
};

// A pending Future was cancelled: its awaiters resume with this error.
class CancelledError : public Error {
public:
    using Error::Error;
    CancelledError() : Error("operation cancelled") {}
};

// The API was used in a way it does not allow (e.g. two concurrent reads on one stream).
class UsageError : public Error {
public:
    using Error::Error;
};

// Queue::get_nowait() found no item.
class QueueEmpty : public Error {
public:
    QueueEmpty() : Error("queue is empty") {}
};
// Queue::put_nowait() found no room.
class QueueFull : public Error {
public:
    QueueFull() : Error("queue is full") {}
};

// A Task that holds no coroutine (default-constructed, moved from or released) was awaited: the
// counterpart of cppcoro's broken_promise.
class EmptyTaskError : public UsageError {
public:
    using UsageError::UsageError;
    EmptyTaskError() : UsageError("co_await on an empty Task (default-constructed or moved from)") {}
};

// e.what() of any exception: "no error" for a null pointer, a fixed text for a non-std exception.
// For log lines and messages that carry a cause.
std::string describe(const std::exception_ptr& e);

}  // namespace squall

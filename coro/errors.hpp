// squall's error hierarchy, root and loop-agnostic errors.
//
// Every error squall raises derives from squall::Error, so `catch (const squall::Error&)` catches all of
// them. Errors travel through futures as std::exception_ptr and are rethrown at co_await.
#pragma once

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

class QueueEmpty : public Error {
public:
    QueueEmpty() : Error("queue is empty") {}
};
class QueueFull : public Error {
public:
    QueueFull() : Error("queue is full") {}
};

}  // namespace squall

// The umbrella header: every public squall API.
#pragma once

#include "coro/coro.hpp"
#include "ioloop/async.hpp"
#include "ioloop/ioloop.hpp"
#include "ioloop/periodic_callback.hpp"
#include "iostream/iostream.hpp"
#if __has_include("iostream/tcp_client.hpp")
#include "iostream/tcp_client.hpp"
#endif

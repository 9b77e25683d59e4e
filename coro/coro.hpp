// Everything in coro/: tasks, futures, gather, start, locks and queues. Knows no event loop.
#pragma once

#include "coro/errors.hpp"
#include "coro/function.hpp"
#include "coro/future.hpp"
#include "coro/gather.hpp"
#include "coro/locks.hpp"
#include "coro/queue.hpp"
#include "coro/start.hpp"
#include "coro/task.hpp"

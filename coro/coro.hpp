// Everything in coro/: tasks, futures, gather, start, locks and queues. Knows no event loop.
#pragma once

#include "squall/coro/errors.hpp"
#include "squall/coro/function.hpp"
#include "squall/coro/future.hpp"
#include "squall/coro/gather.hpp"
#include "squall/coro/locks.hpp"
#include "squall/coro/queue.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"

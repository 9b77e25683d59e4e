// Moved to bench/support/bench.hpp and squall.hpp; kept until bench/amqp includes it from there.
#pragma once
#include "bench/support/squall.hpp"

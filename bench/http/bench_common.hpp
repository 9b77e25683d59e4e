// Moved to bench/support/bench.hpp; kept until bench/amqp includes it from there.
#pragma once
#include "bench/support/bench.hpp"

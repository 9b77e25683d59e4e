#include "squall/amqp/messaging/retry.hpp"

#include <algorithm>

namespace squall::amqp::messaging {

std::chrono::milliseconds RetryIntervals::next() {
    auto current =
        std::clamp(next_, std::chrono::milliseconds(0), std::max(max_, std::chrono::milliseconds(0)));
    next_ = current + step_;
    return current;
}

}  // namespace squall::amqp::messaging

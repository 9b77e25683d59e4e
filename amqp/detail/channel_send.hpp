// Channel::send, shared by channel.cpp and channel_dispatch.cpp (it needs the full Connection).
#pragma once

#include "squall/amqp/channel.hpp"
#include "squall/amqp/connection.hpp"

namespace squall::amqp {

template <class M>
void Channel::send(const M& method) {
    conn_->send_method(id_, method);
}

}  // namespace squall::amqp

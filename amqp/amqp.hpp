// squall::amqp: the AMQP 0-9-1 client (connection, channels, consumers, publisher confirms) and its codec.
//
//     #include "amqp/amqp.hpp"
//     auto conn = co_await squall::amqp::Connection::open(loop, "amqp://guest:guest@127.0.0.1:5672/");
//     auto ch = co_await conn->channel();
#pragma once

#include "amqp/channel.hpp"
#include "amqp/confirmation.hpp"
#include "amqp/connection.hpp"
#include "amqp/consumer.hpp"
#include "amqp/errors.hpp"
#include "amqp/field_table.hpp"
#include "amqp/frame.hpp"
#include "amqp/message.hpp"
#include "amqp/properties.hpp"
#include "amqp/spec.hpp"
#include "amqp/url.hpp"

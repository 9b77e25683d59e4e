// squall::amqp: the AMQP 0-9-1 client (connection, channels, consumers, publisher confirms) and its codec.
//
//     #include "squall/amqp/amqp.hpp"
//     auto conn = co_await squall::amqp::Connection::open(loop, "amqp://guest:guest@127.0.0.1:5672/");
//     auto ch = co_await conn->channel();
#pragma once

#include "squall/amqp/channel.hpp"
#include "squall/amqp/channel_consumer.hpp"
#include "squall/amqp/confirmation.hpp"
#include "squall/amqp/connection.hpp"
#include "squall/amqp/delivery.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/amqp/field_table.hpp"
#include "squall/amqp/frame.hpp"
#include "squall/amqp/properties.hpp"
#include "squall/amqp/spec.hpp"
#include "squall/amqp/url.hpp"

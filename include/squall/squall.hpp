// The umbrella header: every public squall API.
//
//     #include <squall/squall.hpp>
//
// Modules can also be included one by one: "coro/coro.hpp", "ioloop/ioloop.hpp", "iostream/iostream.hpp",
// "httpclient/http.hpp", "amqp/amqp.hpp", "amqp/messaging/messaging.hpp".
#pragma once

#include "amqp/amqp.hpp"
#include "amqp/messaging/messaging.hpp"
#include "amqp/rpc.hpp"
#include "coro/coro.hpp"
#include "httpclient/http.hpp"
#include "ioloop/async.hpp"
#include "ioloop/ioloop.hpp"
#include "ioloop/periodic_callback.hpp"
#include "iostream/iostream.hpp"
#include "iostream/protocol.hpp"
#include "iostream/resolver.hpp"
#include "iostream/tcp_client.hpp"
#include "iostream/tcp_server.hpp"

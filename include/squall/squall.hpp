// The umbrella header: every public squall API.
//
//     #include <squall/squall.hpp>
//
// Modules can also be included one by one: <squall/coro/coro.hpp>, <squall/ioloop/ioloop.hpp>,
// <squall/iostream/iostream.hpp>, <squall/httpclient/http.hpp>, <squall/amqp/amqp.hpp>,
// <squall/amqp/messaging/messaging.hpp>, <squall/websocket/websocket.hpp>.
#pragma once

#include "squall/amqp/amqp.hpp"
#include "squall/amqp/messaging/messaging.hpp"
#include "squall/amqp/rpc.hpp"
#include "squall/coro/coro.hpp"
#include "squall/httpclient/http.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/ioloop/periodic_callback.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/iostream/protocol.hpp"
#include "squall/iostream/resolver.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tcp_server.hpp"
#include "squall/version.hpp"
#include "squall/websocket/websocket.hpp"

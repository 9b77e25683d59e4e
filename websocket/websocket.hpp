// The WebSocket client module in one include.
//
//     #include "squall/websocket/websocket.hpp"
//     auto ws = co_await squall::websocket::websocket_connect(loop, "ws://127.0.0.1:8765/");
#pragma once

#include "squall/websocket/connection.hpp"
#include "squall/websocket/deflate.hpp"
#include "squall/websocket/errors.hpp"
#include "squall/websocket/frame.hpp"
#include "squall/websocket/utf8.hpp"

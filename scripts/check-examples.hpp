// What the header examples may use without declaring it: scripts/check-examples compiles every example
// with `using namespace squall::doc_examples` (and the module's namespace below) in scope. Declarations
// only: the examples are compiled, never run. Keep names few and obvious.
#pragma once

#include <chrono>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "squall/httpclient/http2/registry.hpp"
#include "squall/httpclient/pool.hpp"
#include "squall/squall.hpp"

namespace squall::doc_examples {

using namespace std::chrono_literals;

extern squall::IOLoop loop;                       // the loop the example runs on
extern std::shared_ptr<squall::IOStream> stream;  // a connected stream
extern std::string url;                           // "http://127.0.0.1:8080/"
extern squall::http::Client client;               // an HTTP client on `loop`
extern squall::http::HTTPRequest request;         // a request to send
extern int fd;                                    // a connected non-blocking socket
extern squall::Buffer buffer;                     // a stream's read buffer
extern squall::Buffer read_buffer;
extern std::string head;  // bytes to write
extern std::string_view body_view;
void send_all(std::string_view bytes);  // blocking socket I/O of a sketch
std::span<const char> recv_some();
squall::Task<int> compute();  // some work with a result
squall::Task<int> count_things();
squall::Task<int> fetch_a();
squall::Task<std::string> fetch_b();
extern std::vector<squall::Task<int>> tasks;
squall::Task<void> background_job();  // some work without one
void send_heartbeat();
template <class T>
void use(const T&) {}  // whatever the caller does with a value

namespace for_http {
extern squall::http::ConnectionPool pool;
extern squall::http::Http2Sessions sessions;
extern std::shared_ptr<squall::http::Http2Session> session;
extern nghttp2_session* nghttp2;
extern std::string key;  // a pool key
extern squall::TimePoint deadline;
}  // namespace for_http

namespace for_websocket {
extern std::string response_extension_value;  // the server's Sec-WebSocket-Extensions
extern std::string message;
extern std::string frame_payload;
extern std::size_t max_size;
extern std::string_view buffered_bytes;
extern std::string_view piece1, piece2;
void fail(int close_code);
}  // namespace for_websocket
namespace for_amqp {
extern std::shared_ptr<squall::amqp::Connection> conn;  // an open connection
extern std::shared_ptr<squall::amqp::Channel> ch;       // an open channel
extern std::shared_ptr<squall::amqp::Channel> channel, server_channel, client_channel;
extern std::shared_ptr<squall::amqp::ChannelConsumer> consumer;
extern std::string body;  // a message body
extern std::vector<std::string> bodies;
extern squall::amqp::BasicProperties props;
void handle(const squall::amqp::Delivery& message);
int fib_of(int n);
}  // namespace for_amqp

namespace for_messaging {
extern std::shared_ptr<squall::amqp::messaging::BrokerConnection> conn;
extern std::shared_ptr<squall::amqp::Channel> channel;
extern squall::amqp::messaging::Queue video, image, tasks_queue;
extern squall::amqp::messaging::ProducerOptions producer_options;
extern squall::amqp::messaging::ConsumerOptions consumer_options;
extern squall::amqp::messaging::Consumer consumer;
}  // namespace for_messaging

}  // namespace squall::doc_examples

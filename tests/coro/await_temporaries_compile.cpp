// Compiled (not run) by the await_temporaries_rejected test: the documented form of the co_await
// temporaries rule (squall/coro/task.hpp) compiles; with -DSQUALL_HAZARDOUS_FORM=N the hazardous form N
// must not compile on affected GCC versions (fetch(HTTPRequest&&) and connect(..., ConnectOptions&&) are
// deleted there).
#include <chrono>
#include <memory>
#include <string>

#include "squall/coro/task.hpp"
#include "squall/httpclient/client.hpp"
#include "squall/iostream/tcp_client.hpp"

squall::Task<void> documented(squall::http::Client& client, squall::TCPClient& tcp) {
    squall::http::HTTPRequest req{.url = "http://127.0.0.1:1/", .method = "POST", .body = "x=1"};
    auto resp = co_await client.fetch(req);
    squall::ConnectOptions bounded{.timeout = std::chrono::seconds(5)};
    auto stream = co_await tcp.connect("127.0.0.1", 1, bounded);
    (void)resp;
    (void)stream;
}

#if SQUALL_HAZARDOUS_FORM == 1
squall::Task<void> hazardous(squall::http::Client& client) {
    auto resp = co_await client.fetch(squall::http::HTTPRequest{.url = "http://127.0.0.1:1/", .body = "x=1"});
    (void)resp;
}
#elif SQUALL_HAZARDOUS_FORM == 2
squall::Task<void> hazardous(squall::http::Client& client) {
    auto resp = co_await client.fetch({.url = "http://127.0.0.1:1/", .method = "POST"});
    (void)resp;
}
#elif SQUALL_HAZARDOUS_FORM == 3
squall::Task<void> hazardous(squall::TCPClient& tcp) {
    auto stream = co_await tcp.connect("127.0.0.1", 1, {.timeout = std::chrono::seconds(5)});
    (void)stream;
}
#endif

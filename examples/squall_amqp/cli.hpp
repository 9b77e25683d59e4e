// squall-amqp's command line (parsed in cli.cpp) and commands (commands.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall_amqp {

struct Cli {
    std::string command;  // publish | consume | get | rpc | declare
    std::string url;
    std::string exchange, routing_key, queue, type = "direct";
    std::vector<std::string> args;  // bodies (publish, rpc) or declare's kind and name
    std::map<std::string, std::string> headers;
    std::string content_type, correlation_id, reply_to;
    long count =
        -1;  // publish: copies of each body; consume/get: messages to take (-1: publish 1, consume all)
    long prefetch = 100;
    double timeout = 30;  // rpc, seconds
    bool confirm = true, persistent = false, lines = false, no_ack = false, verbose = false;
    bool durable = false, auto_delete = false, exclusive = false, passive = false, quiet = false;
};

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;    // broker or connection error
inline constexpr int kExitUsage = 2;    // bad command line
inline constexpr int kExitEmpty = 3;    // get: the queue was empty
inline constexpr int kExitTimeout = 4;  // rpc: no reply in time

// Parses argv; on a usage error prints it (and the usage) and exits kExitUsage.
Cli parse_cli(int argc, char** argv);
void print_usage(std::FILE* out);

// Runs cli.command; returns the exit code.
squall::Task<int> run_command(squall::IOLoop& loop, const Cli& cli);

}  // namespace squall_amqp

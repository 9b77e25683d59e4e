// squall-amqp: a command-line AMQP client on squall (like Debian's amqp-tools), e.g.
//   squall-amqp declare queue jobs --durable
//   echo hello | squall-amqp publish -r jobs --persistent
//   squall-amqp publish -r jobs --count 100000 "a body"        # count and rate on a terminal
//   squall-amqp consume -q jobs --count 10
//   squall-amqp get -q jobs
//   squall-amqp rpc -r rpc_queue 30                              # with examples/rpc_server running
// Exit codes: 0 ok, 1 broker/connection error, 2 usage, 3 get found the queue empty, 4 rpc timed out.
#include <cstdio>
#include <exception>

#include "examples/squall_amqp/cli.hpp"

int main(int argc, char** argv) {
    squall_amqp::Cli cli = squall_amqp::parse_cli(argc, argv);
    try {
        squall::IOLoop loop;
        return loop.run_sync(squall_amqp::run_command(loop, cli));
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "squall-amqp: %s\n", e.what());
        return squall_amqp::kExitError;
    }
}

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "examples/squall_amqp/cli.hpp"

namespace squall_amqp {

void print_usage(std::FILE* out) {
    std::fputs(
        "usage: squall-amqp COMMAND [options] [ARGS]\n"
        "  publish [BODY...]          publish each BODY (or stdin: one message, or one per line with "
        "--lines)\n"
        "  consume                    print message bodies, one per line, until --count or Ctrl-C\n"
        "  get                        basic.get up to --count messages (exit 3 when the queue is empty)\n"
        "  rpc BODY                   call --routing-key and print the reply (exit 4 on timeout)\n"
        "  declare queue NAME | exchange NAME | bind   declare a queue, an exchange, or bind --queue to\n"
        "                             --exchange with --routing-key\n"
        "options:\n"
        "  --url URL                  broker (default $SQUALL_AMQP_URL, else "
        "amqp://guest:guest@localhost:5672/)\n"
        "  -e, --exchange NAME        exchange to publish to or bind (default \"\", the default exchange)\n"
        "  -r, --routing-key KEY      routing key (publish, rpc, bind; consume binds with it when given)\n"
        "  -q, --queue NAME           queue (consume, get, bind); consume without one declares a private\n"
        "                             queue bound to --exchange/--routing-key\n"
        "  -c, --count N              publish: copies of each body; consume/get: messages to take\n"
        "  --lines                    publish: each stdin line is a message\n"
        "  --no-confirm               publish without publisher confirms (default: confirmed)\n"
        "  --persistent               delivery_mode 2\n"
        "  --content-type T, --correlation-id ID, --reply-to Q, -H KEY=VALUE   message properties/headers\n"
        "  --prefetch N               consume: basic.qos prefetch_count (default 100)\n"
        "  --no-ack                   consume/get without acknowledgements\n"
        "  --timeout S                rpc: seconds to wait for the reply (default 30)\n"
        "  --type T                   declare exchange: direct, fanout, topic, headers (default direct)\n"
        "  --durable, --auto-delete, --exclusive, --passive   declare flags\n"
        "  -v, --verbose              consume/get: print properties and routing facts too\n"
        "  --quiet                    no count and rate display on a terminal\n",
        out);
}

namespace {

[[noreturn]] void usage_error(const std::string& what) {
    std::fprintf(stderr, "squall-amqp: %s\n", what.c_str());
    print_usage(stderr);
    std::exit(kExitUsage);
}

long to_long(const std::string& opt, const std::string& v) {
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 0)
        usage_error(opt + " needs a non-negative integer, not '" + v + "'");
    return n;
}

}  // namespace

// long: one branch per command-line option.
Cli parse_cli(int argc, char** argv) {
    Cli cli;
    if (const char* env = std::getenv("SQUALL_AMQP_URL"); env && *env) cli.url = env;
    if (cli.url.empty()) cli.url = "amqp://guest:guest@localhost:5672/";
    if (argc < 2) usage_error("no command");
    cli.command = argv[1];
    if (cli.command == "-h" || cli.command == "--help") {
        print_usage(stdout);
        std::exit(kExitOk);
    }
    if (cli.command != "publish" && cli.command != "consume" && cli.command != "get" &&
        cli.command != "rpc" && cli.command != "declare")
        usage_error("unknown command '" + cli.command + "'");
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--url")
            cli.url = value();
        else if (a == "-e" || a == "--exchange")
            cli.exchange = value();
        else if (a == "-r" || a == "--routing-key")
            cli.routing_key = value();
        else if (a == "-q" || a == "--queue")
            cli.queue = value();
        else if (a == "-c" || a == "--count")
            cli.count = to_long(a, value());
        else if (a == "--prefetch")
            cli.prefetch = to_long(a, value());
        else if (a == "--timeout")
            cli.timeout = std::atof(value().c_str());
        else if (a == "--type")
            cli.type = value();
        else if (a == "--content-type")
            cli.content_type = value();
        else if (a == "--correlation-id")
            cli.correlation_id = value();
        else if (a == "--reply-to")
            cli.reply_to = value();
        else if (a == "-H" || a == "--header") {
            std::string kv = value();
            auto eq = kv.find('=');
            if (eq == std::string::npos || eq == 0) usage_error("-H needs KEY=VALUE, not '" + kv + "'");
            cli.headers[kv.substr(0, eq)] = kv.substr(eq + 1);
        } else if (a == "--lines")
            cli.lines = true;
        else if (a == "--no-confirm")
            cli.confirm = false;
        else if (a == "--persistent")
            cli.persistent = true;
        else if (a == "--no-ack")
            cli.no_ack = true;
        else if (a == "--durable")
            cli.durable = true;
        else if (a == "--auto-delete")
            cli.auto_delete = true;
        else if (a == "--exclusive")
            cli.exclusive = true;
        else if (a == "--passive")
            cli.passive = true;
        else if (a == "-v" || a == "--verbose")
            cli.verbose = true;
        else if (a == "--quiet")
            cli.quiet = true;
        else if (a == "--") {
            for (++i; i < argc; ++i) cli.args.push_back(argv[i]);
        } else if (a.size() > 1 && a[0] == '-')
            usage_error("unknown option " + a);
        else
            cli.args.push_back(a);
    }
    if (cli.prefetch > 65535) usage_error("--prefetch is at most 65535");
    if ((cli.command == "consume" || cli.command == "get") && cli.queue.empty() &&
        (cli.command == "get" || cli.exchange.empty()))
        usage_error(cli.command + " needs --queue" + (cli.command == "consume" ? " (or --exchange)" : ""));
    if (cli.command == "rpc" && (cli.args.size() != 1 || cli.routing_key.empty()))
        usage_error("rpc needs --routing-key and one BODY");
    if (cli.command == "declare") {
        if (cli.args.empty()) usage_error("declare needs queue NAME, exchange NAME or bind");
        const std::string& kind = cli.args[0];
        if ((kind == "queue" && cli.args.size() > 2) || (kind == "exchange" && cli.args.size() != 2) ||
            (kind == "bind" && (cli.args.size() != 1 || cli.queue.empty() || cli.exchange.empty())) ||
            (kind != "queue" && kind != "exchange" && kind != "bind"))
            usage_error(
                "declare queue [NAME] | declare exchange NAME --type T | declare bind --queue Q "
                "--exchange E [--routing-key K]");
    }
    return cli;
}

}  // namespace squall_amqp

// The private RabbitMQ of scripts/rabbitmq, for tests: its URLs, rabbitmqctl against its node, and the
// script itself (stop / start / restart / kill a broker or a cluster member in failure tests).
//
//     SQUALL_TEST_CASE("basic.get returns what was published", 10s) {
//         SQUALL_AMQP_URL_OR_RETURN(url);            // amqp_url(): fails the test when no broker was
//                                                    // started; returns (passes) only with
//                                                    // SQUALL_TEST_ALLOW_MISSING_PEERS=1
//         auto conn = co_await squall::amqp::Connection::open(loop, url);
//         ...
//         squall::testing::rabbitmqctl({"close_connection", pid, "closed by the test"});
//     }
//
// scripts/test exports the variables with `eval "$(scripts/rabbitmq start)"` (and
// `eval "$(scripts/rabbitmq cluster start)"` for cluster tests); a developer can do the same in a shell.
#pragma once

#include <string>
#include <vector>

#include "tests/support/peer_env.hpp"

// The prologue of a test coroutine against the broker: declares `var` = amqp_url() and returns from the
// test when the broker is missing and missing peers are allowed (amqp_url() fails the test otherwise).
#define SQUALL_AMQP_URL_OR_RETURN(var)        \
    auto var = ::squall::testing::amqp_url(); \
    if (var.empty()) co_return

// The node URLs and names of scripts/rabbitmq cluster, in the same order; co_return when no cluster runs.
#define SQUALL_AMQP_CLUSTER_OR_RETURN(urls, names)            \
    auto urls = ::squall::testing::amqp_cluster_urls();       \
    auto names = ::squall::testing::rabbitmq_cluster_names(); \
    if (urls.empty()) co_return;                              \
    REQUIRE(names.size() == urls.size())

namespace squall::testing {

namespace detail {

inline std::string rabbitmq_var(const char* name) {
    const std::string dir = peers_dir() + "/rabbitmq/squall-test";
    return peer_var(name, dir + "/env", dir + "/rabbitmq.pid");
}

// From the environment, else from the env file of `scripts/rabbitmq cluster start` while its first node runs.
inline std::string cluster_var(const char* name) {
    const std::string dir = peers_dir() + "/rabbitmq";
    return peer_var(name, dir + "/squall-cluster.env", dir + "/squall-cluster-1/rabbitmq.pid");
}

inline constexpr const char* kStartRabbitmq = "eval \"$(scripts/rabbitmq start)\"";

}  // namespace detail

// amqp://guest:guest@127.0.0.1:PORT/ (SQUALL_AMQP_URL); the test fails when unset, unless missing peers
// are allowed (then "").
inline std::string amqp_url() {
    std::string url = detail::rabbitmq_var("SQUALL_AMQP_URL");
    if (url.empty()) detail::peer_missing("RabbitMQ (SQUALL_AMQP_URL)", detail::kStartRabbitmq);
    return url;
}

// The same broker's vhost "squall-test" (exists, guest has full permissions): SQUALL_AMQP_VHOST_URL.
inline std::string amqp_vhost_url() {
    std::string url = detail::rabbitmq_var("SQUALL_AMQP_VHOST_URL");
    if (url.empty()) detail::peer_missing("RabbitMQ (SQUALL_AMQP_VHOST_URL)", detail::kStartRabbitmq);
    return url;
}

// amqps://guest:guest@localhost:T/ of a broker started with `--tls-port T` (SQUALL_AMQPS_URL), and the
// directory of its test CA and client certificate (SQUALL_AMQP_TLS_DIR: ca.pem, client.pem, client.key; the
// client certificate's CN is guest, which the broker's SASL EXTERNAL maps to the user guest).
inline std::string amqps_url() {
    std::string url = detail::rabbitmq_var("SQUALL_AMQPS_URL");
    if (url.empty()) {
        detail::peer_missing("RabbitMQ with TLS (SQUALL_AMQPS_URL)",
                             "eval \"$(scripts/rabbitmq start --tls-port 5674)\"");
    }
    return url;
}

inline std::string amqp_tls_dir() {
    return detail::rabbitmq_var("SQUALL_AMQP_TLS_DIR");
}

// The broker's name for scripts/rabbitmq --name (SQUALL_RABBITMQ_NAME, default squall-test).
inline std::string rabbitmq_name() {
    std::string name = detail::rabbitmq_var("SQUALL_RABBITMQ_NAME");
    return name.empty() ? std::string("squall-test") : name;
}

// `scripts/rabbitmq ARGS...`, e.g. {"restart"}, {"stop", "--name", "squall-cluster-2"}, {"kill"}.
inline CommandResult rabbitmq_script(const std::vector<std::string>& args) {
    return run_script("rabbitmq", args);
}

// rabbitmqctl ARGS against broker `name`; the result is returned whatever the exit code.
inline CommandResult try_rabbitmqctl(const std::vector<std::string>& args,
                                     const std::string& name = rabbitmq_name()) {
    std::vector<std::string> all{"ctl", "--name", name, "--"};
    all.insert(all.end(), args.begin(), args.end());
    return rabbitmq_script(all);
}

// rabbitmqctl ARGS against broker `name`; fails the test (with rabbitmqctl's output) unless it exits 0.
// Returns the output. Example: rabbitmqctl({"list_queues", "name", "messages", "--quiet"}).
inline std::string rabbitmqctl(const std::vector<std::string>& args,
                               const std::string& name = rabbitmq_name()) {
    CommandResult r = try_rabbitmqctl(args, name);
    if (r.exit_code != 0) {
        std::string shown;
        for (const auto& a : args) shown += " " + a;
        FAIL("rabbitmqctl" << shown << " (node " << name << ") exited " << r.exit_code << ":\n" << r.output);
    }
    return r.output;
}

// Freezes broker `name` (SIGSTOP of its VM, through `scripts/rabbitmq freeze`: it stops reading, its
// sockets stay open, as a hung node or TCP flow control) for the guard's lifetime; thaws it on destruction,
// also when the test fails.
class FrozenBroker {
public:
    explicit FrozenBroker(std::string name = rabbitmq_name()) : name_(std::move(name)) {
        CommandResult r = rabbitmq_script({"freeze", "--name", name_});
        REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    }
    ~FrozenBroker() { thaw(); }
    FrozenBroker(const FrozenBroker&) = delete;
    FrozenBroker& operator=(const FrozenBroker&) = delete;
    void thaw() {
        if (thawed_) return;
        thawed_ = true;
        rabbitmq_script({"thaw", "--name", name_});
    }

private:
    std::string name_;
    bool thawed_ = false;
};

// The cluster of `scripts/rabbitmq cluster start`: one URL per node (SQUALL_AMQP_CLUSTER_URLS, split at
// ';'), in the order of cluster_names(). Fails the test when unset, unless missing peers are allowed.
inline std::vector<std::string> amqp_cluster_urls() {
    std::string joined = detail::cluster_var("SQUALL_AMQP_CLUSTER_URLS");
    std::vector<std::string> urls;
    size_t start = 0;
    while (start < joined.size()) {
        size_t end = joined.find(';', start);
        if (end == std::string::npos) end = joined.size();
        if (end > start) urls.push_back(joined.substr(start, end - start));
        start = end + 1;
    }
    if (urls.empty()) {
        detail::peer_missing("a RabbitMQ cluster (SQUALL_AMQP_CLUSTER_URLS)",
                             "eval \"$(scripts/rabbitmq cluster start)\"");
    }
    return urls;
}

// The cluster members' names for scripts/rabbitmq --name (SQUALL_RABBITMQ_CLUSTER_NAMES, space-separated).
inline std::vector<std::string> rabbitmq_cluster_names() {
    std::string joined = detail::cluster_var("SQUALL_RABBITMQ_CLUSTER_NAMES");
    std::vector<std::string> names;
    size_t start = 0;
    while (start < joined.size()) {
        size_t end = joined.find(' ', start);
        if (end == std::string::npos) end = joined.size();
        if (end > start) names.push_back(joined.substr(start, end - start));
        start = end + 1;
    }
    return names;
}

}  // namespace squall::testing

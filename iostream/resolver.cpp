#include "squall/iostream/resolver.hpp"

#include <netdb.h>

#include <algorithm>
#include <utility>

namespace squall {

// A lookup travelling to a worker and back. The Promise is touched on the loop thread only: the worker
// fills `addrs`/`gai_code` and hands the whole job back through add_callback.
struct Resolver::Job {
    std::string host;
    std::uint16_t port = 0;
    int family = AF_UNSPEC;
    Promise<std::vector<SocketAddress>> promise;
    std::vector<SocketAddress> addrs;
    int gai_code = 0;

    void run() {
        addrinfo hints{};
        hints.ai_family = family;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_protocol = IPPROTO_TCP;
        addrinfo* res = nullptr;
        std::string service = std::to_string(port);
        gai_code = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
        if (gai_code != 0) return;
        for (addrinfo* ai = res; ai; ai = ai->ai_next) {
            if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
            SocketAddress a(ai->ai_addr, ai->ai_addrlen);
            if (std::find(addrs.begin(), addrs.end(), a) == addrs.end()) addrs.push_back(a);
        }
        ::freeaddrinfo(res);
    }

    void deliver() {
        if (gai_code != 0) {
            promise.set_error(ResolveError(
                "could not resolve " + host + ":" + std::to_string(port) + ": " + ::gai_strerror(gai_code),
                gai_code));
        } else if (addrs.empty()) {
            promise.set_error(ResolveError("could not resolve " + host + ": no IPv4 or IPv6 address", 0));
        } else {
            promise.set_value(std::move(addrs));
        }
    }
};

Resolver::Resolver(IOLoop& loop) : loop_(loop) {}

Resolver::~Resolver() {
    std::deque<std::unique_ptr<Job>> abandoned;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        abandoned.swap(jobs_);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    for (auto& job : abandoned)
        job->promise.set_error(
            ResolveError("could not resolve " + job->host + ": the resolver was destroyed", 0));
}

namespace {
// The items of an address-list override ("[::1]:80,127.0.0.1"); a single target is not a list.
std::vector<std::string_view> list_items(std::string_view target) {
    std::vector<std::string_view> items;
    if (target.find(',') == std::string_view::npos) return items;
    while (true) {
        auto comma = target.find(',');
        items.push_back(target.substr(0, comma));
        if (comma == std::string_view::npos) break;
        target.remove_prefix(comma + 1);
    }
    return items;
}
}  // namespace

void Resolver::add_override(std::string from, std::string to) {
    for (auto item : list_items(to)) {
        auto [host, port] = split_host_port(std::string(item));
        if (!SocketAddress::parse_numeric(host, port.value_or(0)))
            throw UsageError("resolver override \"" + to + "\": \"" + std::string(item) +
                             "\" is not a numeric address (a list may hold only IP literals)");
    }
    overrides_[std::move(from)] = std::move(to);
}

Task<std::vector<SocketAddress>> Resolver::resolve(std::string host, std::uint16_t port, int family) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const bool v6_literal = host.find(':') != std::string::npos;
    const std::string with_port = (v6_literal ? "[" + host + "]" : host) + ":" + std::to_string(port);
    auto it = overrides_.find(with_port);
    if (it == overrides_.end()) it = overrides_.find(host);
    if (it != overrides_.end()) {
        auto items = list_items(it->second);
        if (!items.empty()) {
            std::vector<SocketAddress> addrs;
            for (auto item : items) {
                auto [item_host, item_port] = split_host_port(std::string(item));
                auto a = SocketAddress::parse_numeric(item_host, item_port.value_or(port));
                if (a && (family == AF_UNSPEC || a->family() == family) &&
                    std::find(addrs.begin(), addrs.end(), *a) == addrs.end())
                    addrs.push_back(*a);
            }
            if (addrs.empty())
                throw ResolveError("could not resolve " + host + ": no address of the allowed family in \"" +
                                       it->second + "\"",
                                   EAI_FAMILY);
            co_return addrs;
        }
        auto [to_host, to_port] = split_host_port(it->second);
        host = std::move(to_host);
        if (to_port) port = *to_port;
    }
    if (auto numeric = SocketAddress::parse_numeric(host, port)) {
        if (family != AF_UNSPEC && numeric->family() != family)
            throw ResolveError("could not resolve " + host + ": address family not allowed here", EAI_FAMILY);
        co_return std::vector<SocketAddress>{*numeric};
    }
    co_return co_await submit(std::move(host), port, family);
}

Future<std::vector<SocketAddress>> Resolver::submit(std::string host, std::uint16_t port, int family) {
    auto job = std::make_unique<Job>();
    job->host = std::move(host);
    job->port = port;
    job->family = family;
    auto future = job->promise.get_future();
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
        if (threads_.empty())
            for (int i = 0; i < kThreads; ++i) threads_.emplace_back([this] { worker(); });
    }
    ++pool_lookups_;
    cv_.notify_one();
    return future;
}

void Resolver::worker() {
    for (;;) {
        std::unique_ptr<Job> job;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        job->run();
        loop_.add_callback([job = std::move(job)]() mutable { job->deliver(); });
    }
}

}  // namespace squall

// read_until_regex on a line that arrives one byte per recv (IOStream read_chunk_size = 1): the time per
// byte stays flat as the line grows (256 KiB, 512 KiB, 1 MiB) because the search resumes instead of
// rescanning. Also reports how many bytes the incremental search (squall::StreamingSearch, the one
// read_until_regex uses) scans when fed the same line a byte at a time; a rescanning search would scan
// about n^2/2 bytes.
#include <string>
#include <thread>

#include "bench/iostream/common.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/iostream/regex.hpp"

namespace {

squall::Task<std::size_t> read_line(std::shared_ptr<squall::IOStream> s) {
    std::string line = co_await s->read_until_regex("\r?\n\r?\n");
    co_return line.size();
}

}  // namespace

int main(int argc, char** argv) {
    std::string backend = bench::arg(argc, argv, "--backend", "epoll");
    auto re = std::make_shared<squall::StreamRegex>("\r?\n\r?\n");
    for (std::size_t kib : {256, 512, 1024}) {
        const std::string line = std::string(kib * 1024 - 4, 'a') + "\r\n\r\n";
        const std::string params =
            "\"line_bytes\": " + std::to_string(line.size()) + ", \"bytes_per_read\": 1";

        squall::StreamingSearch search(re);
        squall::Buffer buf;
        double t0 = bench::now_s();
        for (char c : line) {
            buf.append(std::string_view(&c, 1));
            if (search.search(buf.view())) break;
        }
        double search_s = bench::now_s() - t0;
        bench::print_result("iostream_regex_search", "squall", params, "bytes_scanned",
                            static_cast<double>(search.bytes_scanned()), "B");
        bench::print_result("iostream_regex_search", "squall", params, "ns_per_byte",
                            search_s * 1e9 / line.size(), "ns");

        squall::IOLoop loop(backend == "uring" ? squall::Backend::uring : squall::Backend::epoll);
        auto [s, r] = bench::tcp_pair();
        bench::set_nonblocking(r);
        auto stream = squall::IOStream::create(loop, r, {.read_chunk_size = 1});
        std::thread sender([fd = s, &line] { (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL); });
        t0 = bench::now_s();
        std::size_t n = loop.run_sync(read_line(stream));
        double stream_s = bench::now_s() - t0;
        sender.join();
        ::close(s);
        if (n != line.size()) return std::fprintf(stderr, "short line: %zu\n", n), 1;
        bench::print_result("iostream_regex_stream", "squall-" + backend, params, "seconds", stream_s, "s");
        bench::print_result("iostream_regex_stream", "squall-" + backend, params, "ns_per_byte",
                            stream_s * 1e9 / line.size(), "ns");
    }
}

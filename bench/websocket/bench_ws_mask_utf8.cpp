// Masking and UTF-8 validation speed on one core (pure computation, no I/O): GB/s of mask_in_place,
// mask_copy (what a client frame costs), Utf8Validator on ASCII text, on mixed text (1/4 of the bytes in
// 2- to 4-byte characters), and unmask + validate together (a masked text frame read into the message
// buffer, ASCII and mixed). The buffer is 1 MiB (in cache, as a message being framed is) unless --size
// says otherwise. Time is this thread's CPU time.
//
//   bench_ws_mask_utf8 --size 1048576 --seconds 1
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "squall/websocket/frame.hpp"
#include "squall/websocket/utf8.hpp"

namespace {

double now_s() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);  // CPU time: other processes on the core do not count
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

template <class F>
double gb_per_s(std::size_t bytes, double seconds, F&& step) {
    // Warm-up pass, then as many passes as fit in `seconds`.
    step();
    std::size_t passes = 0;
    double t0 = now_s(), t = t0;
    while (t - t0 < seconds) {
        for (int i = 0; i < 16; ++i) step();
        passes += 16;
        t = now_s();
    }
    return static_cast<double>(bytes) * static_cast<double>(passes) / (t - t0) / 1e9;
}

void line(const char* op, std::size_t size, double value) {
    std::printf(
        "{\"bench\": \"websocket_mask_utf8\", \"impl\": \"squall\", \"params\": {\"op\": \"%s\", \"size\": "
        "%zu}, \"metric\": \"gb_per_s\", \"value\": %.3f, \"unit\": \"GB/s\"}\n",
        op, size, value);
    std::fprintf(stderr, "%-20s %8zu bytes: %6.2f GB/s\n", op, size, value);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t size = 1 << 20;
    double seconds = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--size")
            size = std::strtoull(argv[i + 1], nullptr, 10);
        else if (a == "--seconds")
            seconds = std::atof(argv[i + 1]);
    }
    std::string ascii(size, 'a');
    for (std::size_t i = 0; i < size; ++i) ascii[i] = static_cast<char>(' ' + i % 90);
    std::string mixed;
    const std::string unit = "squall \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\x8a ";
    while (mixed.size() + unit.size() <= size) mixed += unit;
    mixed.append(size - mixed.size(), 'x');
    std::string out(size, '\0');
    const squall::websocket::MaskKey key{0x11, 0x22, 0x33, 0x44};
    volatile bool sink = false;

    line("mask_in_place", size,
         gb_per_s(size, seconds, [&] { squall::websocket::mask_in_place(out.data(), size, key); }));
    line("mask_copy", size,
         gb_per_s(size, seconds, [&] { squall::websocket::mask_copy(out.data(), ascii.data(), size, key); }));
    line("utf8_ascii", size,
         gb_per_s(size, seconds, [&] { sink = squall::websocket::is_valid_utf8(ascii); }));
    line("utf8_mixed", size,
         gb_per_s(size, seconds, [&] { sink = squall::websocket::is_valid_utf8(mixed); }));
    // Unmasking a masked text frame into the message buffer, then validating it (as a server reads one).
    std::string masked_ascii(size, '\0'), masked_mixed(size, '\0');
    squall::websocket::mask_copy(masked_ascii.data(), ascii.data(), size, key);
    squall::websocket::mask_copy(masked_mixed.data(), mixed.data(), size, key);
    bool all_valid = true;
    line("mask_and_utf8", size, gb_per_s(size, seconds, [&] {
             squall::websocket::mask_copy(out.data(), masked_ascii.data(), size, key);
             all_valid &= squall::websocket::is_valid_utf8(out);
         }));
    line("mask_and_utf8_mixed", size, gb_per_s(size, seconds, [&] {
             squall::websocket::mask_copy(out.data(), masked_mixed.data(), size, key);
             all_valid &= squall::websocket::is_valid_utf8(out);
         }));
    if (!all_valid) {
        std::fprintf(stderr, "bench_ws_mask_utf8: a text that is valid UTF-8 was refused\n");
        return 1;
    }
    (void)sink;
}

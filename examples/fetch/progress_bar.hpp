// A one-line progress display for squall-fetch on a terminal: bytes received, rate, and (when the total
// is known from Content-Length) a bar, a percentage and the ETA. Drawn on stderr with '\r'; callers
// decide whether stderr is a TTY.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace fetch {

// "12.3 MiB", "512 B".
std::string format_bytes(double bytes);
// "0:07", "1:02:03"; "--:--" for unknown.
std::string format_eta(double seconds);

class ProgressBar {
public:
    using Clock = std::chrono::steady_clock;
    explicit ProgressBar(std::FILE* out) : out_(out), start_(Clock::now()) {}

    // Adds `n` received bytes; `expected` grows when a response announces its Content-Length.
    void add_bytes(std::uint64_t n) noexcept { received_ += n; }
    void adjust_expected(std::int64_t delta) noexcept {
        expected_ = delta < 0 && static_cast<std::uint64_t>(-delta) > expected_ ? 0 : expected_ + delta;
    }
    void set_counts(std::size_t done, std::size_t total) noexcept { done_ = done, total_ = total; }

    // Redraws the line (the rate is averaged since the start).
    void draw();
    // Draws a final line and ends it with a newline.
    void finish();

    // The line draw() prints, for tests and for finish().
    std::string line(double elapsed_s) const;

private:
    std::FILE* out_;
    Clock::time_point start_;
    std::uint64_t received_ = 0;
    std::uint64_t expected_ = 0;  // 0: unknown
    std::size_t done_ = 0, total_ = 0;
    std::size_t last_width_ = 0;
};

}  // namespace fetch

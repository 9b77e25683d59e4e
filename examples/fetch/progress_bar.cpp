#include "examples/fetch/progress_bar.hpp"

#include <algorithm>

namespace fetch {

std::string format_bytes(double bytes) {
    static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[u]);
    return buf;
}

std::string format_eta(double s) {
    if (!(s >= 0) || s > 99 * 3600) return "--:--";
    auto t = static_cast<long>(s + 0.5);
    char buf[32];
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    return buf;
}

std::string ProgressBar::line(double elapsed) const {
    double rate = elapsed > 0 ? static_cast<double>(received_) / elapsed : 0;
    std::string s = "[" + std::to_string(done_) + "/" + std::to_string(total_) + "] ";
    if (expected_ > 0) {
        double frac = std::min(1.0, static_cast<double>(received_) / static_cast<double>(expected_));
        constexpr int kWidth = 24;
        int filled = static_cast<int>(frac * kWidth);
        s += "[" + std::string(filled, '#') + std::string(kWidth - filled, '-') + "] ";
        char pct[16];
        std::snprintf(pct, sizeof pct, "%3.0f%% ", frac * 100);
        s += pct;
        s += format_bytes(static_cast<double>(received_)) + " / " +
             format_bytes(static_cast<double>(expected_));
        double left = static_cast<double>(expected_ > received_ ? expected_ - received_ : 0);
        s += "  " + format_bytes(rate) + "/s  ETA " + format_eta(rate > 0 ? left / rate : -1);
    } else {
        s += format_bytes(static_cast<double>(received_)) + "  " + format_bytes(rate) + "/s  ETA --:--";
    }
    return s;
}

void ProgressBar::draw() {
    double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    std::string s = line(elapsed);
    std::size_t width = s.size();
    if (width < last_width_) s += std::string(last_width_ - width, ' ');  // erase a longer previous line
    last_width_ = width;
    std::fprintf(out_, "\r%s", s.c_str());
    std::fflush(out_);
}

void ProgressBar::finish() {
    draw();
    std::fputc('\n', out_);
    std::fflush(out_);
}

}  // namespace fetch

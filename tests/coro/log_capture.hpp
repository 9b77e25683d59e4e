// LogCapture: records what squall logs while it is alive (set_log_handler), restoring the previous
// handler on destruction. For tests that prove an error is logged rather than lost.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "squall/coro/log.hpp"

namespace squall::test {

class LogCapture {
public:
    LogCapture()
        : previous_(set_log_handler([this](LogLevel level, std::string_view m) {
              if (level >= LogLevel::warning) lines_.emplace_back(m);
          })) {}
    ~LogCapture() { set_log_handler(std::move(previous_)); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    const std::vector<std::string>& lines() const noexcept { return lines_; }
    // How many logged lines contain `needle`.
    std::size_t count(std::string_view needle) const {
        std::size_t n = 0;
        for (const auto& l : lines_)
            if (l.find(needle) != std::string::npos) ++n;
        return n;
    }

private:
    std::vector<std::string> lines_;
    LogHandler previous_;
};

}  // namespace squall::test

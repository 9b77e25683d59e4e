#include "squall/ioloop/async.hpp"

namespace squall::detail {

std::string describe_timeout(Duration d) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
}

}  // namespace squall::detail

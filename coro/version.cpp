#include "squall/version.hpp"

namespace squall {

Version version() noexcept {
    return {SQUALL_VERSION_MAJOR, SQUALL_VERSION_MINOR, SQUALL_VERSION_PATCH};
}

const char* version_string() noexcept {
    return SQUALL_VERSION_STRING;
}

}  // namespace squall

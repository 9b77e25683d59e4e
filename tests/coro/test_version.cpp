#include <doctest/doctest.h>

#include <string>

#include "squall/version.hpp"

TEST_CASE("version: the header, the library and project(VERSION) agree") {
    squall::Version v = squall::version();
    CHECK(v.major == SQUALL_VERSION_MAJOR);
    CHECK(v.minor == SQUALL_VERSION_MINOR);
    CHECK(v.patch == SQUALL_VERSION_PATCH);
    CHECK(std::string(squall::version_string()) == SQUALL_TEST_PROJECT_VERSION);
    CHECK(std::string(squall::version_string()) ==
          std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch));
    CHECK(SQUALL_VERSION ==
          SQUALL_VERSION_NUMBER(SQUALL_VERSION_MAJOR, SQUALL_VERSION_MINOR, SQUALL_VERSION_PATCH));
    CHECK(SQUALL_VERSION_NUMBER(0, 10, 0) > SQUALL_VERSION_NUMBER(0, 9, 99));
}

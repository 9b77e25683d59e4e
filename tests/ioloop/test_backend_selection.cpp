// Backend choice: automatic falls back to epoll when io_uring_setup is refused (simulated with a
// seccomp filter in a forked child, as containers do), a forced io_uring raises BackendUnavailableError
// there, SQUALL_IOLOOP forces a backend, and the test suite's io_uring probe agrees with the kernel.
#include <doctest/doctest.h>
#include <linux/io_uring.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "squall/ioloop/errors.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/testing.hpp"
#include "support.hpp"
#include "tests/support/no_io_uring.h"

namespace {

// Makes io_uring_setup fail with EPERM for this process (tests/support/no_io_uring.h).
bool refuse_io_uring_setup() {
    return squall_refuse_io_uring() == 0;
}

// Whether the kernel lets this process set up a ring at all, asked without squall.
bool kernel_allows_io_uring() {
    io_uring_params params{};
    long fd = ::syscall(__NR_io_uring_setup, 4, &params);
    if (fd < 0) return false;
    ::close(static_cast<int>(fd));
    return true;
}

// Runs `check` in a forked child and returns its exit code (0 = every check held; 1-99 = which failed).
template <class F>
int in_child(F check) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int code = 100;
        try {
            code = check();
        } catch (...) {
            code = 101;
        }
        ::_exit(code);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

// Runs one callback on the loop; true when it ran.
bool runs_a_callback(squall::IOLoop& loop) {
    bool ran = false;
    loop.add_callback([&] {
        ran = true;
        loop.stop();
    });
    loop.run();
    return ran;
}

}  // namespace

TEST_SUITE("ioloop") {
    TEST_CASE("automatic picks io_uring where the kernel allows it" *
              doctest::skip(squall::testing::skip_uring()) *
              doctest::description(squall::testing::uring_skip_description())) {
        int code = in_child([] {
            ::unsetenv("SQUALL_IOLOOP");
            squall::IOLoop loop;
            return loop.backend() == squall::Backend::uring ? 0 : 1;
        });
        CHECK(code == 0);
    }

    TEST_CASE("automatic falls back to epoll, with one log line, when io_uring_setup is refused") {
        int code = in_child([] {
            ::unsetenv("SQUALL_IOLOOP");
            if (!refuse_io_uring_setup()) return 2;
            squall::test::LogCapture logs;
            squall::IOLoop loop(squall::Backend::automatic);
            if (loop.backend() != squall::Backend::epoll) return 3;
            if (!runs_a_callback(loop)) return 4;
            if (logs.count("io_uring unavailable") != 1) return 5;
            return 0;
        });
        CHECK(code == 0);
    }

    TEST_CASE("a forced io_uring backend raises BackendUnavailableError saying how to use epoll") {
        int code = in_child([] {
            if (!refuse_io_uring_setup()) return 2;
            try {
                squall::IOLoop loop(squall::Backend::uring);
                return 3;
            } catch (const squall::BackendUnavailableError& e) {
                std::string what = e.what();
                if (what.find("io_uring") == std::string::npos) return 4;
                if (what.find("not permitted") == std::string::npos) return 5;  // strerror(EPERM)
                if (what.find("SQUALL_IOLOOP=epoll") == std::string::npos) return 6;
                if (what.find('\n') != std::string::npos) return 7;  // one line
            }
            return 0;
        });
        CHECK(code == 0);
    }

    TEST_CASE("SQUALL_IOLOOP=epoll forces epoll for an automatic loop") {
        int code = in_child([] {
            ::setenv("SQUALL_IOLOOP", "epoll", 1);
            squall::IOLoop loop;
            if (loop.backend() != squall::Backend::epoll) return 2;
            if (!runs_a_callback(loop)) return 3;
            if (kernel_allows_io_uring()) {
                ::setenv("SQUALL_IOLOOP", "uring", 1);
                squall::IOLoop forced;
                if (forced.backend() != squall::Backend::uring) return 4;
            }
            ::setenv("SQUALL_IOLOOP", "kqueue", 1);
            try {
                squall::IOLoop bad;
                return 5;
            } catch (const squall::UsageError&) {
            }
            return 0;
        });
        CHECK(code == 0);
    }

    TEST_CASE(
        "where the kernel allows io_uring, a loop forced to uring starts on it (the test suite's probe "
        "agrees)") {
        if (!kernel_allows_io_uring()) {
            CHECK_THROWS_AS(squall::IOLoop(squall::Backend::uring), squall::BackendUnavailableError);
            CHECK(squall::testing::skip_uring());
            CHECK_FALSE(squall::testing::uring_unavailable_reason().empty());
            return;
        }
        CHECK(squall::testing::uring_unavailable_reason().empty());
        CHECK_FALSE(squall::testing::skip_uring());
    }

    TEST_CASE("a loop forced to uring runs on io_uring and one forced to epoll on epoll" *
              doctest::skip(squall::testing::skip_uring()) *
              doctest::description(squall::testing::uring_skip_description())) {
        squall::IOLoop u(squall::Backend::uring);
        squall::IOLoop e(squall::Backend::epoll);
        CHECK(u.backend() == squall::Backend::uring);
        CHECK(e.backend() == squall::Backend::epoll);
        CHECK(squall::to_string(u.backend()) == "io_uring");
        CHECK(squall::to_string(e.backend()) == "epoll");
    }
}

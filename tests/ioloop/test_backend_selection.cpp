// Backend choice: automatic falls back to epoll when io_uring_setup is refused (simulated with a
// seccomp filter in a forked child, as containers do), a forced io_uring fails clearly there, and
// SQUALL_IOLOOP forces a backend.
#include <doctest/doctest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "squall/ioloop/ioloop.hpp"
#include "support.hpp"

namespace {

// Makes io_uring_setup fail with EPERM for this process; everything else is allowed.
bool refuse_io_uring_setup() {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
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
    TEST_CASE("automatic picks io_uring where the kernel allows it") {
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

    TEST_CASE("a forced io_uring backend throws a clear error when io_uring_setup is refused") {
        int code = in_child([] {
            if (!refuse_io_uring_setup()) return 2;
            try {
                squall::IOLoop loop(squall::Backend::uring);
                return 3;
            } catch (const squall::Error& e) {
                std::string what = e.what();
                if (what.find("io_uring") == std::string::npos) return 4;
                if (what.find("not permitted") == std::string::npos) return 5;  // strerror(EPERM)
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
            ::setenv("SQUALL_IOLOOP", "uring", 1);
            squall::IOLoop forced;
            if (forced.backend() != squall::Backend::uring) return 4;
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

    TEST_CASE("a loop forced to uring runs on io_uring and one forced to epoll on epoll") {
        squall::IOLoop u(squall::Backend::uring);
        squall::IOLoop e(squall::Backend::epoll);
        CHECK(u.backend() == squall::Backend::uring);
        CHECK(e.backend() == squall::Backend::epoll);
        CHECK(squall::to_string(u.backend()) == "io_uring");
        CHECK(squall::to_string(e.backend()) == "epoll");
    }
}

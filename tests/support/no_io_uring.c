// no_io_uring: runs a command on a host that refuses io_uring, as a container's default seccomp profile
// or `sysctl kernel.io_uring_disabled=2` does, without touching the machine's settings.
//
//     build/default/tests/no_io_uring ctest --test-dir build/default -L ioloop
//     build/default/tests/no_io_uring env SQUALL_IOLOOP=uring build/default/examples/hello_loop/hello_loop
//
// io_uring_setup, io_uring_enter and io_uring_register fail with EPERM (no_io_uring.h) in the command and
// everything it starts (ctest, the test binaries); the filter cannot be lifted by them.
#include "no_io_uring.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fprintf(stderr, "usage: %s COMMAND [ARG...]: runs COMMAND with io_uring refused (EPERM)\n", argv[0]);
        return argc < 2 ? 2 : 0;
    }
    if (squall_refuse_io_uring() != 0) {
        fprintf(stderr, "no_io_uring: cannot install the seccomp filter: %s\n", strerror(errno));
        return 125;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "no_io_uring: cannot run %s: %s\n", argv[1], strerror(errno));
    return 127;
}

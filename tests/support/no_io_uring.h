/* squall_refuse_io_uring(): makes io_uring_setup, io_uring_enter and io_uring_register fail with EPERM
 * for this process and every process it starts, as a container's default seccomp profile does; every
 * other system call is allowed. Returns 0, or -1 with errno set when the filter cannot be installed.
 * Used by no_io_uring.c (a wrapper that runs a command so) and by the ioloop backend-selection tests.
 * C and C++. */
#ifndef SQUALL_TESTS_SUPPORT_NO_IO_URING_H
#define SQUALL_TESTS_SUPPORT_NO_IO_URING_H

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define SQUALL_NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SQUALL_NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "no_io_uring.h: add this architecture's AUDIT_ARCH_* value"
#endif

static inline int squall_refuse_io_uring(void) {
    /* System calls of a foreign ABI (e.g. 32-bit on x86_64) pass untouched: their numbers differ. */
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SQUALL_NATIVE_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof filter / sizeof filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0 ? 0 : -1;
}

#endif

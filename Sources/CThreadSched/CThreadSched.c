#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include "CThreadSched.h"

#include <errno.h>

#if defined(__linux__)
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/// The kernel's struct sched_attr (include/uapi/linux/sched/types.h), first version: 48 bytes.
struct refv_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime;
    uint64_t sched_deadline;
    uint64_t sched_period;
};

int refv_set_thread_sched(int nice, uint64_t slice_ns) {
#ifdef SYS_sched_setattr
    struct refv_sched_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.sched_policy = SCHED_OTHER;
    attr.sched_nice = nice;
    attr.sched_runtime = slice_ns;
    return syscall(SYS_sched_setattr, 0, &attr, 0) == 0 ? 0 : errno;
#else
    (void)nice; (void)slice_ns;
    return ENOSYS;
#endif
}

int refv_thread_id(void) { return (int)syscall(SYS_gettid); }
#else
int refv_set_thread_sched(int nice, uint64_t slice_ns) { (void)nice; (void)slice_ns; return ENOSYS; }
int refv_thread_id(void) { return -1; }
#endif

// The calling thread's scheduling attributes through sched_setattr(2), which glibc 2.36 does not
// wrap (and syscall(2) is variadic, which Swift cannot call).
#ifndef REFVISION_CTHREADSCHED_H
#define REFVISION_CTHREADSCHED_H

#include <stdint.h>

/// Puts the calling thread in SCHED_OTHER at nice `nice` with a time slice of `slice_ns`
/// nanoseconds (a custom EEVDF slice, Linux 6.12 and later: 0.1–100 ms). Returns 0, or the errno of
/// the refused call (EINVAL from kernels without custom slices, ENOSYS off Linux); then nothing
/// changed.
int refv_set_thread_sched(int nice, uint64_t slice_ns);

/// The calling thread's kernel id (gettid(2)); -1 off Linux.
int refv_thread_id(void);

#endif

#ifndef WSGATE_ALLOCATION_COUNTER_H
#define WSGATE_ALLOCATION_COUNTER_H
// Counts heap allocations made by the calling thread, for tests that guard the hot path against
// per-message allocations. Linked into the test binary only: it defines malloc and friends, which
// forward to glibc's own (__libc_malloc …), so every allocation in the test process passes here.

/// Allocations (malloc, calloc, realloc of nothing or to a new block, aligned forms) made by this
/// thread since it started.
long wsgate_thread_allocations(void);

#endif

//! A counting global allocator: live and peak heap bytes, for the training-memory measurement.
//!
//! The `rnnzoo` program installs it (`#[global_allocator]` in `main.rs`); elsewhere (tests,
//! criterion) it is not installed and [`installed`] is false. Counting is two relaxed atomics per
//! allocation, invisible next to the work it counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static USED: AtomicBool = AtomicBool::new(false);

/// The system allocator, counting live bytes and their high-water mark.
pub struct Counting;

// SAFETY: every call is forwarded unchanged to `System`; the counters do not affect allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded; `ptr` came from this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded; `ptr` came from this allocator with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grow(new_size);
        }
        p
    }
}

fn grow(n: usize) {
    USED.store(true, Ordering::Relaxed);
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

/// Whether [`Counting`] is the global allocator of this process (it has seen an allocation).
pub fn installed() -> bool {
    USED.load(Ordering::Relaxed)
}

/// Heap bytes live now.
pub fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Resets the high-water mark to the bytes live now, and returns that.
pub fn reset_peak() -> usize {
    let l = live();
    PEAK.store(l, Ordering::Relaxed);
    l
}

/// The most heap bytes live since the last [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Asks glibc's `malloc` to keep freed memory for the next call instead of handing it back to the
/// kernel; returns whether it took (glibc on Linux only: elsewhere nothing changes).
///
/// Every forward and backward call allocates its buffers fresh (outputs, tape, gradients, the
/// chunk workspace). With glibc's defaults, blocks over 128 KiB are mapped per call and freed
/// memory at the top of the heap is trimmed, so each call page-faults its buffers in again: an
/// RNN (T 100, B 32, H 128, f32, one core) spent about 15% of forward+backward in the kernel's
/// page-fault path, 10.5 ms against 7.4 ms with these settings, and minGRU T4096 B32 I=H=256
/// 1395 ms against 1219 (Xeon, AVX-512, 2026-12-03). A training program wants the
/// opposite trade (keep its peak resident, reuse it every step), as does a benchmark of one; a
/// program embedding rnnzoo can make the same call, or use an allocator that caches (mimalloc,
/// jemalloc). Call it at the start of `main`, before the program allocates much.
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // One arena (M_ARENA_MAX 1) and no block mapped on its own (M_MMAP_MAX 0): the layers
        // run on rayon's threads, whose arenas are heaps of at most 64 MiB that map anything
        // larger afresh, and 32 MiB is the largest mmap threshold glibc accepts, while a long
        // sequence's tape holds larger blocks (minGRU T4096 B32 H256 f32: 134 MB each, 1.2 GB at
        // the peak). Those were mapped and page-faulted in on every call: 32 % of that case's
        // time in the kernel, against 1 % at T64. The trim threshold, the largest an `int`
        // holds, keeps up to 2 GiB of freed heap. The hot loops allocate nothing, so one arena
        // costs no lock traffic there.
        // SAFETY: mallopt takes no pointers and only changes the allocator's tuning (glibc
        // serialises it with the arenas' locks), so any call is sound.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1) == 1
                && libc::mallopt(libc::M_MMAP_MAX, 0) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

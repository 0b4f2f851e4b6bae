//! A counting global allocator for "steady state allocates nothing" tests.
//! Include it with `#[path = "common/counting_alloc.rs"] mod counting_alloc;`
//! (not through `common`, so other tests keep the system allocator), then
//! `set_counting(true)` around the code under test and compare
//! `allocations()` with 0. Counts allocations and reallocations made by
//! this thread while counting is on.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNT: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    if COUNT.with(|c| c.get()) {
        ALLOCS.with(|a| a.set(a.get() + 1));
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Count this thread's allocations from now on (or stop).
pub fn set_counting(on: bool) {
    COUNT.with(|c| c.set(on));
}

/// Allocations counted so far on this thread.
pub fn allocations() -> u64 {
    ALLOCS.with(|a| a.get())
}

//! A counting global allocator for the steady-state tests: while
//! `counting(true)` is set on a thread, every allocation it makes is
//! counted (`allocs()`). Include with `#[path = "common/alloc.rs"] mod alloc;`
//! (it installs itself as the test binary's global allocator).

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
pub fn counting(on: bool) {
    COUNT.with(|c| c.set(on));
}

/// Allocations counted on this thread so far.
pub fn allocs() -> u64 {
    ALLOCS.with(|a| a.get())
}

//! A counting global allocator for "allocates nothing" tests. A test crate
//! includes it with `#[path = "common/counting_alloc.rs"] mod counting_alloc;`
//! (it then is that crate's global allocator; kept out of `common/mod.rs`
//! so other tests keep the plain one) and counts allocations and
//! reallocations made by this thread while `counting(true)`.

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

/// Start or stop counting this thread's allocations.
pub fn counting(on: bool) {
    COUNT.with(|c| c.set(on));
}

/// Allocations counted on this thread so far.
pub fn allocations() -> u64 {
    ALLOCS.with(|a| a.get())
}

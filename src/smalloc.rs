//! A small global allocator for the firmware binary (musl builds only,
//! installed in `main.rs`): power-of-two size classes from 16 to 2048
//! bytes carved from 64 KiB mmap(2) chunks and kept on free lists, and
//! anything larger mapped and unmapped on its own. zig's libc allocator it
//! replaces (`SmpAllocator`, per-CPU arenas) was ~8 kB of the MIPS binary;
//! hagw is one thread, so a lock that is never contended is enough.
//!
//! The binary also gives libc a `malloc`/`free` pair on top of it
//! (`c_malloc`), so libc's own allocator is not linked at all.
//!
//! Owns: heap memory of the process. Never: returns small blocks to the
//! kernel (the daemon's heap is sized at start and steady after).

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::{self, null_mut};
use core::sync::atomic::{AtomicBool, Ordering};

/// Smallest and largest size class (log2).
const MIN_SHIFT: usize = 4;
const MAX_SHIFT: usize = 11;
const CLASSES: usize = MAX_SHIFT - MIN_SHIFT + 1;
/// Small blocks are cut from chunks this large.
const CHUNK: usize = 64 * 1024;
const PAGE: usize = 4096;

struct State {
    /// Head of each class's free list (the first word of a free block
    /// points to the next).
    free: [*mut u8; CLASSES],
    /// The unused rest of the current chunk.
    bump: usize,
    end: usize,
}

pub struct Smalloc {
    lock: AtomicBool,
    state: UnsafeCell<State>,
}

// SAFETY: `state` is only touched with `lock` held.
unsafe impl Sync for Smalloc {}

impl Smalloc {
    pub const fn new() -> Smalloc {
        Smalloc {
            lock: AtomicBool::new(false),
            state: UnsafeCell::new(State {
                free: [null_mut(); CLASSES],
                bump: 0,
                end: 0,
            }),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        while self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        // SAFETY: the lock is held, so this is the only reference.
        let r = f(unsafe { &mut *self.state.get() });
        self.lock.store(false, Ordering::Release);
        r
    }
}

impl Default for Smalloc {
    fn default() -> Smalloc {
        Smalloc::new()
    }
}

/// The size class of a layout (index into `free`), or `None` for a large
/// block.
fn class(l: Layout) -> Option<usize> {
    let need = l.size().max(l.align()).max(1 << MIN_SHIFT);
    if need > 1 << MAX_SHIFT {
        return None;
    }
    let shift = usize::BITS as usize - (need - 1).leading_zeros() as usize;
    Some(shift - MIN_SHIFT)
}

fn map(len: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping; no memory is aliased.
    let p = unsafe {
        libc::mmap(
            null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        null_mut()
    } else {
        p.cast()
    }
}

fn large_len(l: Layout) -> usize {
    l.size().saturating_add(PAGE - 1) & !(PAGE - 1)
}

impl State {
    fn alloc_small(&mut self, c: usize) -> *mut u8 {
        let size = 1usize << (c + MIN_SHIFT);
        let Some(head) = self.free.get_mut(c) else {
            return null_mut();
        };
        if !head.is_null() {
            let p = *head;
            // SAFETY: a free block's first word holds the next free block.
            *head = unsafe { p.cast::<*mut u8>().read() };
            return p;
        }
        // Blocks are aligned to their size (chunks are page aligned).
        let mut at = (self.bump + size - 1) & !(size - 1);
        if self.bump == 0 || at + size > self.end {
            let chunk = map(CHUNK);
            if chunk.is_null() {
                return null_mut();
            }
            self.bump = chunk as usize;
            self.end = self.bump + CHUNK;
            at = self.bump;
        }
        self.bump = at + size;
        at as *mut u8
    }
}

// SAFETY: blocks are at least `layout.size()` bytes, aligned to
// `layout.align()` (a class block is aligned to its power-of-two size ≥
// the alignment, a large block to a page; alignments above a page are
// refused with null), and a block is handed out again only after it was
// freed.
unsafe impl GlobalAlloc for Smalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class(layout) {
            Some(c) => self.with(|s| s.alloc_small(c)),
            None if layout.align() <= PAGE => map(large_len(layout)),
            None => null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match class(layout) {
            Some(c) => self.with(|s| {
                if let Some(head) = s.free.get_mut(c) {
                    // SAFETY: the block is ours and at least a word long.
                    unsafe { ptr.cast::<*mut u8>().write(*head) };
                    *head = ptr;
                }
            }),
            None => {
                // SAFETY: a large block is a mapping of this length.
                unsafe { libc::munmap(ptr.cast(), large_len(layout)) };
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Same class (or same number of pages): nothing to move.
        let Ok(new) = Layout::from_size_align(new_size, layout.align()) else {
            return null_mut();
        };
        let same = match (class(layout), class(new)) {
            (Some(a), Some(b)) => a == b,
            (None, None) => large_len(layout) == large_len(new),
            _ => false,
        };
        if same {
            return ptr;
        }
        // SAFETY: `new` has a non-zero size (GlobalAlloc's contract).
        let p = unsafe { self.alloc(new) };
        if !p.is_null() {
            // SAFETY: both blocks hold at least the smaller size.
            unsafe {
                ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        p
    }
}

/// The header in front of a C `malloc` block: its size, for `free`.
const HEADER: usize = 16;

impl Smalloc {
    /// C `malloc` on top of this allocator (libc's own few users, e.g.
    /// posix_spawn's file actions; see `main.rs`): 16-byte aligned, the
    /// size kept in a 16-byte header for `free`.
    pub fn c_malloc(&self, n: usize) -> *mut u8 {
        let Some(total) = n.checked_add(HEADER) else {
            return null_mut();
        };
        let Ok(l) = Layout::from_size_align(total, HEADER) else {
            return null_mut();
        };
        // SAFETY: `l` has a non-zero size.
        let p = unsafe { self.alloc(l) };
        if p.is_null() {
            return p;
        }
        // SAFETY: the block holds the header and `n` bytes after it.
        unsafe {
            p.cast::<usize>().write(total);
            p.add(HEADER)
        }
    }

    /// C `free` of a block from `c_malloc` (null is ignored).
    ///
    /// # Safety
    /// `p` is null or came from `c_malloc` and was not freed yet.
    pub unsafe fn c_free(&self, p: *mut u8) {
        if p.is_null() {
            return;
        }
        // SAFETY: per the contract, the header sits just before `p`.
        unsafe {
            let block = p.sub(HEADER);
            let total = block.cast::<usize>().read();
            self.dealloc(block, Layout::from_size_align_unchecked(total, HEADER));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_size_and_alignment() {
        let l = |s, a| Layout::from_size_align(s, a).unwrap();
        assert_eq!(class(l(1, 1)), Some(0));
        assert_eq!(class(l(16, 8)), Some(0));
        assert_eq!(class(l(17, 1)), Some(1));
        assert_eq!(class(l(8, 64)), Some(2));
        assert_eq!(class(l(2048, 8)), Some(7));
        assert_eq!(class(l(2049, 8)), None);
        assert_eq!(class(l(8, 4096)), None);
    }

    #[test]
    fn blocks_are_aligned_distinct_reused_and_keep_their_bytes() {
        let a = Smalloc::new();
        let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
        // Sizes across every class and the large path, odd alignments.
        for i in 0..3000usize {
            let size = [1, 7, 16, 24, 100, 512, 1500, 2048, 3000, 70_000][i % 10];
            let align = [1, 2, 8, 16, 64][i % 5];
            let l = Layout::from_size_align(size, align).unwrap();
            let p = unsafe { a.alloc(l) };
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0);
            let tag = i as u8;
            unsafe { ptr::write_bytes(p, tag, size) };
            live.push((p, l, tag));
            if i % 3 == 0 {
                let (p, l, tag) = live.swap_remove(i % live.len());
                let bytes = unsafe { core::slice::from_raw_parts(p, l.size()) };
                assert!(bytes.iter().all(|&b| b == tag), "block overwritten");
                unsafe { a.dealloc(p, l) };
            }
        }
        // Grow and shrink keep the contents.
        let (p, l, tag) = live.pop().unwrap();
        let q = unsafe { a.realloc(p, l, l.size() * 3 + 5000) };
        let bytes = unsafe { core::slice::from_raw_parts(q, l.size()) };
        assert!(bytes.iter().all(|&b| b == tag));
        unsafe {
            a.dealloc(
                q,
                Layout::from_size_align(l.size() * 3 + 5000, l.align()).unwrap(),
            )
        };
        for (p, l, tag) in live {
            let bytes = unsafe { core::slice::from_raw_parts(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == tag), "block overwritten");
            unsafe { a.dealloc(p, l) };
        }
        // A freed block comes back for the same class.
        let l = Layout::from_size_align(40, 8).unwrap();
        let p = unsafe { a.alloc(l) };
        unsafe { a.dealloc(p, l) };
        assert_eq!(unsafe { a.alloc(l) }, p);
        // The C pair: aligned, usable, freed back to its class.
        let c = a.c_malloc(100);
        assert_eq!(c as usize % 16, 0);
        unsafe { ptr::write_bytes(c, 1, 100) };
        unsafe { a.c_free(c) };
        assert_eq!(a.c_malloc(100), c);
        unsafe { a.c_free(null_mut()) };
    }
}

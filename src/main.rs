//! The `hagw` binary: all behaviour lives in the library; see `cli`.

/// Firmware (musl) builds use hagw's own small allocator instead of the
/// libc one (see `smalloc`); host builds keep the system allocator.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOC: hagw::smalloc::Smalloc = hagw::smalloc::Smalloc::new();

/// libc's own users of malloc/free (musl's posix_spawn file actions) get
/// them from `ALLOC` too, so zig's libc allocator (~6 kB on mips) is not
/// linked. Should libc ever need calloc/realloc as well, the link fails
/// with a duplicate `malloc` rather than mixing two heaps silently.
#[cfg(target_env = "musl")]
#[unsafe(no_mangle)]
pub extern "C" fn malloc(n: usize) -> *mut u8 {
    ALLOC.c_malloc(n)
}

/// See `malloc`.
///
/// # Safety
/// `p` is null or came from this `malloc`.
#[cfg(target_env = "musl")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn free(p: *mut u8) {
    // SAFETY: per the contract, `p` came from `malloc` above.
    unsafe { ALLOC.c_free(p) }
}

fn main() {
    std::process::exit(hagw::cli::main());
}

//! Outputs written straight into fresh memory.
//!
//! The allocating entry points (`*_vec_with`) hand the kernels a vector's spare capacity
//! instead of a zero-filled buffer, so no zero value is ever written only to be overwritten
//! (with glibc, `vec![0.0; n]` of `f32`/`f64` gets already-zero pages for large buffers, so
//! this saves a pass only on recycled heap memory and for the half-precision types), and ask
//! for huge pages on buffers large enough that glibc maps them afresh every time (which is
//! where the measured gain comes from). Internally every per-element output is therefore a
//! `&mut [MaybeUninit<T>]`, which the sweeps write once, element by element, and never read.

use std::mem::MaybeUninit;

/// `s` viewed as possibly-uninitialized memory, for a kernel output parameter.
///
/// # Safety
/// Whoever writes through the view must store only initialized values (never
/// `MaybeUninit::uninit()`), so that `s` still holds valid `T`s when the borrow ends.
pub(crate) unsafe fn as_uninit<T>(s: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has the size and alignment of `T`, so the view covers exactly
    // the same memory; the caller promises to write only initialized values through it.
    unsafe { &mut *(s as *mut [T] as *mut [MaybeUninit<T>]) }
}

/// A vector of `len` elements written by `fill`, not zero-filled first.
///
/// # Safety
/// When `fill` returns `Ok`, it must have initialized every one of the `len` elements.
pub(crate) unsafe fn filled_vec<T, E>(
    len: usize,
    huge_pages: bool,
    fill: impl FnOnce(&mut [MaybeUninit<T>]) -> Result<(), E>,
) -> Result<Vec<T>, E> {
    let mut v = output_vec(len, huge_pages);
    fill(&mut v.spare_capacity_mut()[..len])?;
    // SAFETY: the capacity is at least `len`, and the caller guarantees that `fill`
    // initialized all `len` elements since it returned `Ok`.
    unsafe { v.set_len(len) };
    Ok(v)
}

/// An empty vector with room for `len` elements, for an output about to be written in full.
///
/// With `huge_pages`, on Linux, when the buffer is 32 MiB or larger, its memory is advised for
/// transparent huge pages (see `advise_huge_pages`): glibc maps buffers that large afresh on
/// every allocation and unmaps them on free, and faulting them in 2 MiB at a time instead of
/// 4 KiB made an allocating 51 MB training forward 1.3-2.7x faster on the project machine
/// (README, "Fresh output buffers"). The kernels' allocating entry points (`*_vec_with`) use
/// it when [`Execution::huge_pages`](crate::Execution::huge_pages) says so (off by
/// default); so can code that allocates its own outputs.
///
/// # Panics
/// When `len` elements of `T` exceed `isize::MAX` bytes (as [`Vec::with_capacity`]).
pub fn output_vec<T>(len: usize, huge_pages: bool) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    if huge_pages {
        advise_huge_pages(&mut v.spare_capacity_mut()[..len]);
    }
    v
}

/// Outputs of at least this many bytes ask for transparent huge pages: glibc's largest
/// dynamic mmap threshold, above which every allocation is a fresh mapping of its own. Below
/// it, buffers are recycled heap memory (already faulted in), and advice given there would
/// stay on memory the allocator hands to others after the buffer is freed.
const HUGE_PAGE_MIN_BYTES: usize = 32 << 20;

/// Asks Linux to back the 2 MiB-aligned interior of a fresh output buffer with transparent
/// huge pages. Buffers this large come straight from `mmap`, so the first write to each 4 KiB
/// page faults; with huge pages a 51 MB output takes about 24 faults of 2 MiB for its aligned
/// interior, plus up to about a thousand 4 KiB ones at its unaligned ends, instead of about
/// 12,500. Only advice: where huge pages are disabled or unavailable nothing changes.
#[cfg(target_os = "linux")]
fn advise_huge_pages<T>(buffer: &mut [MaybeUninit<T>]) {
    const HUGE_PAGE: usize = 2 << 20;
    let bytes = std::mem::size_of_val(buffer);
    if bytes < HUGE_PAGE_MIN_BYTES {
        return;
    }
    let start = buffer.as_mut_ptr() as usize;
    let first = start.next_multiple_of(HUGE_PAGE);
    let end = (start + bytes) / HUGE_PAGE * HUGE_PAGE;
    if end > first {
        // SAFETY: `[first, end)` lies inside the memory `buffer` borrows mutably, and the
        // range is page-aligned as madvise requires. MADV_HUGEPAGE changes only how the kernel
        // backs those pages, never their contents (which are not initialized yet anyway).
        // A failure (huge pages disabled) leaves ordinary pages, so the result is ignored.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages<T>(_buffer: &mut [MaybeUninit<T>]) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_vec_has_room_for_small_and_huge_page_sized_outputs() {
        for len in [0, 1, 1000, (HUGE_PAGE_MIN_BYTES / 4) + 12_345] {
            let mut v: Vec<f32> = output_vec(len, true);
            assert!(v.is_empty() && v.capacity() >= len);
            v.extend((0..len).map(|i| i as f32));
            assert_eq!(v.len(), len);
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as f32));
        }
    }

    #[test]
    fn filled_vec_returns_what_fill_wrote_and_passes_errors_on() {
        // SAFETY: the closure writes all 10 elements before returning Ok.
        let v = unsafe {
            filled_vec::<u8, ()>(10, true, |out| {
                for (i, o) in out.iter_mut().enumerate() {
                    o.write(i as u8);
                }
                Ok(())
            })
        };
        assert_eq!(v, Ok((0..10).collect::<Vec<u8>>()));
        // SAFETY: returns Err, so nothing needs to be initialized.
        let e = unsafe { filled_vec::<u8, &str>(10, false, |_| Err("refused")) };
        assert_eq!(e, Err("refused"));
    }
}

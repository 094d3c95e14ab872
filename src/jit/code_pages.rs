//! The pages compiled code lives in: mapped and filled in one go (`MAP_POPULATE`: one system
//! call instead of a page fault per page, a large part of compiling a long program), then
//! read+execute only (never writable and executable at once), unmapped on drop.

use std::io;
use std::ops::Deref;

/// Read+execute pages holding `len` bytes of code.
pub struct CodePages {
    ptr: *mut u8,
    len: usize,
    mapped: usize,
}

// SAFETY: the pages are never written after `new`; sharing or moving them is as safe as for
// a `Box<[u8]>`.
unsafe impl Send for CodePages {}
// SAFETY: as above: read-only after `new`.
unsafe impl Sync for CodePages {}

impl CodePages {
    /// Maps fresh pages, copies `code` in, and makes them read+execute.
    pub fn new(code: &[u8]) -> io::Result<CodePages> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        let mapped = code.len().max(1).next_multiple_of(page);
        // SAFETY: a fresh anonymous private mapping; checked for failure below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapped,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let pages = CodePages { ptr: ptr.cast(), len: code.len(), mapped };
        // SAFETY: the mapping holds `mapped >= code.len()` writable bytes.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), pages.ptr, code.len()) };
        // SAFETY: `ptr` and `mapped` describe the mapping made above.
        if unsafe { libc::mprotect(ptr, mapped, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(pages)
    }

    /// The address of the code at `offset`.
    pub fn ptr(&self, offset: usize) -> *const u8 {
        self.as_ref()[offset..].as_ptr()
    }
}

impl AsRef<[u8]> for CodePages {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `len` bytes were copied in and stay mapped (readable) until drop.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Deref for CodePages {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_ref()
    }
}

impl Drop for CodePages {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping `new` made; nothing refers to it any more.
        unsafe { libc::munmap(self.ptr.cast(), self.mapped) };
    }
}

//! The bytes a run hands back (the packet or the context after it) without copying them.
//!
//! Short programs are most of what XDP and tc run, so what a run costs besides its instructions
//! matters: copying the packet into every outcome (and freeing it again) cost more than running a
//! parse. Instead the outcome shares the engine's buffer ([`OutBytes`]), and the engine takes the
//! buffer back at its next run if the outcome is gone by then ([`Lent`]); only an outcome kept
//! across runs makes the engine start a new buffer.

use std::fmt;
use std::ops::Deref;
use std::rc::Rc;

/// Bytes of a run's outcome: a window of a buffer shared with the engine that ran it. Reads
/// like a `&[u8]` (`len`, indexing, iteration) and compares with byte vectors. Two words: the
/// bounds are 32-bit (packets and contexts are far below 4 GiB), so an outcome stays small.
#[derive(Clone)]
pub struct OutBytes {
    buf: Rc<Vec<u8>>,
    start: u32,
    end: u32,
}

impl OutBytes {
    /// Bytes owned by nobody else (engines that produce a fresh buffer, such as the kernel's).
    pub fn new(bytes: Vec<u8>) -> OutBytes {
        // (No run hands back 4 GiB: the kernel's test run and our buffers stay far below.)
        let end = bytes.len().min(u32::MAX as usize) as u32;
        OutBytes { buf: Rc::new(bytes), start: 0, end }
    }
}

impl From<Vec<u8>> for OutBytes {
    fn from(bytes: Vec<u8>) -> OutBytes {
        OutBytes::new(bytes)
    }
}

impl Deref for OutBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.buf[self.start as usize..self.end as usize]
    }
}

impl AsRef<[u8]> for OutBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for OutBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq for OutBytes {
    fn eq(&self, other: &OutBytes) -> bool {
        **self == **other
    }
}

impl Eq for OutBytes {}

impl PartialEq<Vec<u8>> for OutBytes {
    fn eq(&self, other: &Vec<u8>) -> bool {
        **self == other[..]
    }
}

impl PartialEq<[u8]> for OutBytes {
    fn eq(&self, other: &[u8]) -> bool {
        **self == *other
    }
}

/// An engine buffer lent to outcomes, to take back when they are gone.
#[derive(Debug, Default)]
pub struct Lent(Option<Rc<Vec<u8>>>);

impl Lent {
    /// Lends `buf[start..end]` to an outcome: the bytes move into the shared buffer and `buf`
    /// is left empty (without capacity) until [`Lent::reclaim`]. A range outside `buf` lends
    /// nothing (empty bytes).
    #[inline(always)]
    pub fn lend(&mut self, buf: &mut Vec<u8>, start: usize, end: usize) -> OutBytes {
        let (start, end) = if start <= end && end <= buf.len() && end <= u32::MAX as usize {
            (start as u32, end as u32)
        } else {
            (0, 0)
        };
        let shared = match self.0.take() {
            Some(mut rc) => match Rc::get_mut(&mut rc) {
                Some(v) => {
                    std::mem::swap(v, buf);
                    buf.clear();
                    rc
                }
                None => Rc::new(std::mem::take(buf)),
            },
            None => Rc::new(std::mem::take(buf)),
        };
        self.0 = Some(Rc::clone(&shared));
        OutBytes { buf: shared, start, end }
    }

    /// Before a run refills `buf`: takes the lent buffer back into it when no outcome holds it
    /// any more (no allocation), else lets the outcomes keep it (and `buf` grows anew).
    #[inline(always)]
    pub fn reclaim(&mut self, buf: &mut Vec<u8>) {
        if let Some(rc) = &mut self.0 {
            match Rc::get_mut(rc) {
                Some(v) if v.capacity() > buf.capacity() => std::mem::swap(v, buf),
                Some(_) => {}
                None => self.0 = None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_outcome_gives_its_buffer_back_and_a_kept_one_keeps_its_bytes() {
        let mut lent = Lent::default();
        let mut buf = vec![1, 2, 3, 4];
        let ptr = buf.as_ptr();
        let out = lent.lend(&mut buf, 1, 3);
        assert_eq!(out, vec![2, 3]);
        assert!(buf.is_empty());
        drop(out);
        lent.reclaim(&mut buf);
        assert_eq!(buf.as_ptr(), ptr, "the same allocation comes back");
        buf.clear();
        buf.extend_from_slice(&[9, 9]);
        let kept = lent.lend(&mut buf, 0, 2);
        lent.reclaim(&mut buf);
        buf.extend_from_slice(&[7]);
        let next = lent.lend(&mut buf, 0, 1);
        assert_eq!((kept, next), (OutBytes::new(vec![9, 9]), OutBytes::new(vec![7])));
        assert_eq!(lent.lend(&mut vec![1], 0, 5), vec![], "a range outside lends nothing");
    }
}

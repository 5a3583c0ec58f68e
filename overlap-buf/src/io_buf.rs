//! The buffer traits: what a kernel may read from and write into.
#![allow(unsafe_code)]

/// A buffer the kernel may read from while an operation owns it.
///
/// # Safety
///
/// Implementors promise that [`buf_ptr`](IoBuf::buf_ptr) points at
/// [`buf_len`](IoBuf::buf_len) initialised bytes inside an allocation of
/// [`buf_capacity`](IoBuf::buf_capacity) bytes, and that this memory stays valid **at the same
/// address** when the value is moved, until it is dropped or mutated through `&mut self`. Inline
/// arrays (`[u8; N]`) do not qualify: moving them moves their bytes.
pub unsafe trait IoBuf: 'static {
    /// The start of the buffer.
    fn buf_ptr(&self) -> *const u8;
    /// How many bytes are initialised (what a send would send).
    fn buf_len(&self) -> usize;
    /// How many bytes the allocation holds.
    fn buf_capacity(&self) -> usize;

    /// The initialised bytes.
    fn as_slice(&self) -> &[u8] {
        // SAFETY: the trait's contract says `buf_ptr` points at `buf_len` initialised bytes that
        // live as long as `self` is not mutated, which the shared borrow guarantees.
        unsafe { std::slice::from_raw_parts(self.buf_ptr(), self.buf_len()) }
    }
}

/// A buffer whose spare capacity the kernel may fill while an operation owns it.
///
/// # Safety
///
/// Everything [`IoBuf`] promises, plus: [`buf_mut_ptr`](IoBufMut::buf_mut_ptr) is the same
/// address as `buf_ptr`, writable for `buf_capacity` bytes, and
/// [`set_buf_len`](IoBufMut::set_buf_len) makes exactly that many bytes count as initialised.
pub unsafe trait IoBufMut: IoBuf {
    /// The start of the buffer, writable up to its capacity.
    fn buf_mut_ptr(&mut self) -> *mut u8;

    /// Marks the first `len` bytes as initialised.
    ///
    /// # Safety
    ///
    /// `len <= buf_capacity()` and the first `len` bytes have been written.
    unsafe fn set_buf_len(&mut self, len: usize);
}

// SAFETY: a Vec's heap allocation does not move when the Vec is moved; `as_ptr`, `len` and
// `capacity` describe it exactly.
unsafe impl IoBuf for Vec<u8> {
    fn buf_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn buf_len(&self) -> usize {
        self.len()
    }
    fn buf_capacity(&self) -> usize {
        self.capacity()
    }
}

// SAFETY: `as_mut_ptr` is the same allocation as `as_ptr`, writable for `capacity` bytes.
unsafe impl IoBufMut for Vec<u8> {
    fn buf_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }
    unsafe fn set_buf_len(&mut self, len: usize) {
        debug_assert!(len <= self.capacity());
        // SAFETY: the caller promises `len <= capacity` and that those bytes are initialised.
        unsafe { self.set_len(len) }
    }
}

// SAFETY: a boxed slice's heap allocation is fixed; it is fully initialised.
unsafe impl IoBuf for Box<[u8]> {
    fn buf_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn buf_len(&self) -> usize {
        self.len()
    }
    fn buf_capacity(&self) -> usize {
        self.len()
    }
}

// SAFETY: a String's bytes live in a Vec<u8>'s heap allocation.
unsafe impl IoBuf for String {
    fn buf_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn buf_len(&self) -> usize {
        self.len()
    }
    fn buf_capacity(&self) -> usize {
        self.capacity()
    }
}

// SAFETY: 'static data never moves and is never freed.
unsafe impl IoBuf for &'static [u8] {
    fn buf_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn buf_len(&self) -> usize {
        self.len()
    }
    fn buf_capacity(&self) -> usize {
        self.len()
    }
}

// SAFETY: 'static data never moves and is never freed.
unsafe impl IoBuf for &'static str {
    fn buf_ptr(&self) -> *const u8 {
        self.as_ptr()
    }
    fn buf_len(&self) -> usize {
        self.len()
    }
    fn buf_capacity(&self) -> usize {
        self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill<B: IoBufMut>(mut b: B, byte: u8) -> B {
        let start = b.buf_len();
        let cap = b.buf_capacity();
        // SAFETY: writes stay inside the capacity the trait promises is writable.
        unsafe { std::ptr::write_bytes(b.buf_mut_ptr().add(start), byte, cap - start) };
        // SAFETY: every byte up to `cap` was just written.
        unsafe { b.set_buf_len(cap) };
        b
    }

    #[test]
    fn vec_spare_capacity_is_fillable() {
        let mut v = Vec::with_capacity(8);
        v.push(1u8);
        let v = fill(v, 7);
        assert_eq!(v.as_slice(), &[1, 7, 7, 7, 7, 7, 7, 7][..v.capacity()]);
    }

    #[test]
    fn pointer_is_stable_across_moves() {
        let v = vec![1u8, 2, 3];
        let p = v.buf_ptr();
        let moved = Box::new(v);
        assert_eq!(moved.buf_ptr(), p);
    }

    #[test]
    fn static_and_string_buffers() {
        let s: &'static str = "hello";
        assert_eq!(s.as_slice(), b"hello");
        let st = String::from("abc");
        assert_eq!(st.as_slice(), b"abc");
        let b: Box<[u8]> = vec![9u8; 4].into_boxed_slice();
        assert_eq!(b.buf_capacity(), 4);
        let e: &'static [u8] = b"";
        assert_eq!(e.buf_len(), 0);
    }
}

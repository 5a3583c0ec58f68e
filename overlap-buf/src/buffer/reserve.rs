//! Room for reads: [`Buffer::reserve`] hands out a [`Space`], [`Buffer::commit`] takes it back.
//!
//! ```text
//!   reserve(n) ─► spare allocation if it holds n, else a new one (≥ 4 KiB, or n)
//!                  │  (n = 0: an empty Space, no allocation: a zero-length read probe)
//!                  ▼
//!               Space ── a recv fills it (owned by the op meanwhile) ──┐
//!                                                                       ▼
//!   commit(space):  nothing written   → allocation kept as the spare
//!                   ≤ 1 KiB, fits the last block's room → copied there, allocation kept
//!                   otherwise         → the allocation becomes the last block (no copy)
//! ```

use std::io;

use super::block::Block;
use super::chain::alloc;
use super::chain::Buffer;

use super::space::Space;

/// `commit` copies a fill this small into the last block's room and keeps the allocation.
const COMMIT_COPY_MAX: usize = 1024;

impl Buffer {
    /// Owned room for at least `n` bytes (not zero-filled), for a read to fill; give it back
    /// with [`commit`](Self::commit). Reuses the allocation the buffer kept when it is large
    /// enough; otherwise allocates at least [`Buffer::BLOCK_MAX`] bytes. `reserve(0)` gives an
    /// empty room and allocates nothing. Fails with `OutOfMemory` for a size that cannot be
    /// allocated, `PermissionDenied` when the end is frozen.
    pub fn reserve(&mut self, n: usize) -> io::Result<Space> {
        self.check_end()?;
        if n == 0 {
            return Ok(Space::from_vec(Vec::new()));
        }
        if n <= self.spare.capacity() {
            return Ok(Space::from_vec(std::mem::take(&mut self.spare)));
        }
        Ok(Space::from_vec(alloc(n.max(Self::BLOCK_MAX))?))
    }

    /// Appends the bytes written into `space` (its length); returns how many. A small fill is
    /// copied into the last block's room and the allocation kept for the next reserve; a
    /// larger one becomes a block as it is. Fails when the end is frozen (the space is
    /// dropped).
    pub fn commit(&mut self, space: Space) -> io::Result<usize> {
        self.check_end()?;
        let vec = space.into_vec();
        let n = vec.len();
        if n == 0 {
            self.keep_spare(vec);
            return Ok(0);
        }
        let orig = self.len;
        match self.blocks.back_mut() {
            Some(tail) if n <= COMMIT_COPY_MAX && tail.room() >= n => {
                tail.append_within(&vec);
                self.len += n;
                self.keep_spare(vec);
            }
            _ => {
                self.reserve_slots(1)?;
                self.blocks.push_back(Block::from(vec));
                self.len += n;
            }
        }
        self.notify(orig, n, 0);
        Ok(n)
    }
}

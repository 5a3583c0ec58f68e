//! [`FdTable`]: what the emulation keeps per descriptor, indexed by the descriptor's number.
//!
//! Descriptors are small integers the process hands out densely from 0, so a vector indexed by
//! them finds an entry with no hashing, on every submit and every event. Entries are boxed: a
//! slot costs a pointer whether its descriptor is associated or not, and the table holds as
//! many slots as the highest descriptor seen (bounded by the process's descriptor limit).

/// Values indexed by descriptor number.
pub(super) struct FdTable<T> {
    slots: Vec<Option<Box<T>>>,
}

impl<T> Default for FdTable<T> {
    fn default() -> FdTable<T> {
        FdTable { slots: Vec::new() }
    }
}

impl<T> FdTable<T> {
    /// The slot of `fd` (negative descriptors have none).
    fn index(fd: i32) -> Option<usize> {
        usize::try_from(fd).ok()
    }

    /// The entry of `fd`, if it has one.
    pub(super) fn get_mut(&mut self, fd: i32) -> Option<&mut T> {
        self.slots.get_mut(Self::index(fd)?)?.as_deref_mut()
    }

    /// The slot of `fd`, the table grown to hold it.
    fn slot(&mut self, fd: i32) -> Option<&mut Option<Box<T>>> {
        let i = Self::index(fd)?;
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        Some(&mut self.slots[i])
    }

    /// The entry of `fd`, made with `make` if it has none (`None` for a negative descriptor).
    pub(super) fn get_or_insert_with(&mut self, fd: i32, make: impl FnOnce() -> T) -> Option<&mut T> {
        Some(self.slot(fd)?.get_or_insert_with(|| Box::new(make())))
    }

    /// Sets the entry of `fd`.
    pub(super) fn insert(&mut self, fd: i32, value: T) {
        if let Some(slot) = self.slot(fd) {
            *slot = Some(Box::new(value));
        }
    }

    /// Takes the entry of `fd` out.
    pub(super) fn remove(&mut self, fd: i32) -> Option<T> {
        self.slots.get_mut(Self::index(fd)?)?.take().map(|b| *b)
    }

    /// Every entry.
    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.slots.iter_mut().filter_map(|s| s.as_deref_mut())
    }
}

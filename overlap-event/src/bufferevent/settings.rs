//! The settings of a [`BufferEvent`]: watermarks, timeouts, read and write sizes, rate
//! limits, priority.

use std::io;
use std::time::Duration;

use super::engine::{self, apply, Driver};
use super::rate::{RateGroup, RateLimit};
use super::shared::{Bits, BufferEvent, MAX_IO};
use crate::base::EventBase;
use crate::error::bad_watermark;

impl BufferEvent {
    /// Sets the read watermarks: the read callback waits until the input holds `low` bytes
    /// (0: any), and reading stops while it holds `high` (`None`: no limit) and resumes when
    /// it is drained below. A `high` of 0, or below `low`, is refused.
    pub fn set_read_watermarks(&self, base: &mut EventBase, low: usize, high: Option<usize>) -> io::Result<()> {
        self.check(base)?;
        match high {
            Some(0) => return Err(bad_watermark("the read high watermark is 0 (None means no limit)")),
            Some(h) if h < low => return Err(bad_watermark("the read high watermark is below the low one")),
            _ => {}
        }
        {
            let mut st = self.0.st.borrow_mut();
            st.marks.read_low = low;
            st.marks.read_high = high.and_then(std::num::NonZeroUsize::new); // not 0: checked above
        }
        let s = &self.0;
        let len = s.input.borrow().len();
        if s.bits().has(Bits::SUSPENDED) && high.is_none_or(|h| len < h) {
            s.set(Bits::SUSPENDED, false);
            apply(base, self);
            s.queue_read();
        }
        Ok(())
    }

    /// Sets the write low watermark: the write callback runs when a write leaves the output
    /// at or below it (0, the default: when all was sent).
    pub fn set_write_watermark(&self, low: usize) -> io::Result<()> {
        self.alive()?;
        self.0.st.borrow_mut().marks.write_low = low;
        Ok(())
    }

    /// Sets the read and write timeouts (`None` or zero: none). A read timeout passes when
    /// reading is enabled and nothing came for that long; a write timeout when the output
    /// waited that long for the socket (or a connect took that long). Either ends in the
    /// event callback with TIMEOUT and READING or WRITING, and disables that side.
    pub fn set_timeouts(
        &self,
        base: &mut EventBase,
        read: Option<Duration>,
        write: Option<Duration>,
    ) -> io::Result<()> {
        self.check(base)?;
        match engine::of(&self.0) {
            Driver::Socket | Driver::Completion => {}
            Driver::Filter => {
                return self.underlying().map_or(Ok(()), |u| u.set_timeouts(base, read, write));
            }
            Driver::Pair => return Err(crate::error::not_a_socket("a timeout")),
        }
        let norm = |t: Option<Duration>| t.filter(|t| !t.is_zero());
        for t in [read, write].into_iter().flatten() {
            if base.now().checked_add(t).is_none() {
                return Err(crate::error::timeout_overflow());
            }
        }
        {
            self.0.st.borrow_mut().set_timeouts(norm(read), norm(write));
        }
        engine::retime(base, &self.0);
        Ok(())
    }

    /// Limits how much one read takes and one write sends (default 256 KiB each; 1 byte to
    /// 64 MiB).
    pub fn set_max_io(&self, max_read: usize, max_write: usize) -> io::Result<()> {
        self.alive()?;
        if max_read == 0 || max_write == 0 {
            return Err(crate::error::zero_io_size());
        }
        if max_read > MAX_IO || max_write > MAX_IO {
            return Err(crate::error::io_size_too_large(MAX_IO));
        }
        let mut st = self.0.st.borrow_mut();
        st.set_max_io(max_read, max_write);
        Ok(())
    }

    /// Limits how fast it reads and writes (`bufferevent_set_rate_limit`), or with `None`
    /// lifts its own limits (a group's stay). A filter passes this to the buffered event
    /// below it; pairs are not limited.
    pub fn set_rate_limit(&self, base: &mut EventBase, limit: Option<RateLimit>) -> io::Result<()> {
        self.check(base)?;
        match engine::of(&self.0) {
            Driver::Socket | Driver::Completion => {
                super::ratelim::set_own(base, self, limit);
                Ok(())
            }
            Driver::Filter => self.underlying().map_or(Ok(()), |u| u.set_rate_limit(base, limit)),
            Driver::Pair => Err(crate::error::not_a_socket("a rate limit")),
        }
    }

    /// Puts it in a rate-limit group, or with `None` takes it out
    /// (`bufferevent_add_to_rate_limit_group`, `bufferevent_remove_from_rate_limit_group`).
    /// A buffered event is in one group at most; a filter passes this on.
    pub fn set_rate_group(&self, base: &mut EventBase, group: Option<&RateGroup>) -> io::Result<()> {
        self.check(base)?;
        match engine::of(&self.0) {
            Driver::Socket | Driver::Completion => super::ratelim::set_group(base, self, group),
            Driver::Filter => self.underlying().map_or(Ok(()), |u| u.set_rate_group(base, group)),
            Driver::Pair => Err(crate::error::not_a_socket("a rate limit")),
        }
    }

    /// Sets the priority of its events (0 is the most urgent).
    pub fn set_priority(&self, base: &mut EventBase, priority: usize) -> io::Result<()> {
        self.check(base)?;
        if priority >= base.priorities() {
            return Err(crate::error::priority_range(priority, base.priorities()));
        }
        let done_ev = self.0.st.borrow().ops.as_ref().map(|o| o.done_ev); // the completion engine's
        for ev in [self.0.read_ev.get(), self.0.write_ev.get(), done_ev].into_iter().flatten() {
            base.set_priority(ev, priority)?;
        }
        self.0.st.borrow_mut().priority = u8::try_from(priority).ok(); // below 256, checked above
        Ok(())
    }
}

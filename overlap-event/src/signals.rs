//! Signal events: which events watch which signal.

use std::io;

use crate::base::EventBase;
use crate::id::Event;

impl EventBase {
    /// Starts delivering `signo` to `ev`.
    pub(crate) fn watch_signal(&mut self, signo: i32, ev: Event) -> io::Result<()> {
        let _ = (signo, ev);
        Err(crate::error::unsupported("signal events", self.backend().name()))
    }

    /// Stops delivering `signo` to `ev`.
    pub(crate) fn unwatch_signal(&mut self, signo: i32, ev: Event) {
        if let Some(list) = self.signals.get_mut(&signo) {
            list.retain(|e| *e != ev);
            if list.is_empty() {
                self.signals.remove(&signo);
            }
        }
    }
}

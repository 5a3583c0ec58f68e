//! Signal events: which events watch which signal, and the base's `SignalReceiver` (made
//! when the first signal event is added, registered with the reactor under its own token).
//! Every base watching a signal gets each arrival; each of its events on that signal runs
//! once per arrival (libevent's `ncalls`).

use std::io;

use overlap::SignalReceiver;

use crate::base::{EventBase, SIGNALS};
use crate::flags::Flags;
use crate::id::Event;

impl EventBase {
    /// Starts delivering `signo` to `ev`.
    pub(crate) fn watch_signal(&mut self, signo: i32, ev: Event) -> io::Result<()> {
        if self.signal_rx.is_none() {
            let rx = SignalReceiver::new()?;
            self.wait.watch_signals(&rx, SIGNALS)?;
            self.signal_rx = Some(rx);
        }
        let rx = self.signal_rx.as_ref().expect("made above");
        let list = self.signals.entry(signo).or_default();
        if list.is_empty() {
            if let Err(e) = rx.add(signo) {
                self.signals.remove(&signo);
                return Err(e);
            }
        }
        self.signals.entry(signo).or_default().push(ev);
        Ok(())
    }

    /// Stops delivering `signo` to `ev`; the last event of a signal gives the signal back
    /// (its earlier disposition is restored when no base watches it).
    pub(crate) fn unwatch_signal(&mut self, signo: i32, ev: Event) {
        let Some(list) = self.signals.get_mut(&signo) else { return };
        list.retain(|e| *e != ev);
        if list.is_empty() {
            self.signals.remove(&signo);
            if let Some(rx) = &self.signal_rx {
                let _ = rx.remove(signo);
            }
        }
    }

    /// Activates the events of the signals that arrived.
    pub(crate) fn process_signals(&mut self) {
        let Some(rx) = &self.signal_rx else { return };
        let mut arrived = Vec::new();
        if rx.take(&mut arrived).is_err() {
            return;
        }
        for (signo, count) in arrived {
            let events = self.signals.get(&signo).cloned().unwrap_or_default();
            for ev in events {
                self.activate_n(ev, Flags::SIGNAL, count);
            }
        }
    }
}

//! libevent's programming model — an event base, events on descriptors, timers, signals,
//! priorities — in safe Rust, on every readiness backend of [`overlap`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[allow(dead_code)]
mod timer;

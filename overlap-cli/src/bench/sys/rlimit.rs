//! The open-files limit (RLIMIT_NOFILE): a run that needs more descriptors at once than the soft
//! limit allows raises it, within the hard limit, as `ulimit -n` would.
#![allow(unsafe_code)]

use std::io;

/// Raises the soft limit on open files to at least `needed` where the hard limit allows; the
/// soft limit after (`u64::MAX`: none).
pub(crate) fn raise_open_files(needed: u64) -> io::Result<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one `struct rlimit` into a live local.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == -1 {
        return Err(io::Error::last_os_error());
    }
    let (soft, hard) = (to_u64(lim.rlim_cur), to_u64(lim.rlim_max));
    if soft >= needed {
        return Ok(soft);
    }
    let want = needed.min(hard);
    let raised = libc::rlimit { rlim_cur: from_u64(want), rlim_max: lim.rlim_max };
    // SAFETY: setrlimit reads one `struct rlimit` from a live local.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == -1 {
        return Ok(soft); // refused (macOS caps it at OPEN_MAX): the old limit stands
    }
    Ok(want)
}

/// A limit as a `u64` (`u64::MAX`: none). `rlim_t` is `u64` on Linux and macOS, `i64` on FreeBSD:
/// the casts are no-ops on some targets.
#[allow(clippy::unnecessary_cast)]
fn to_u64(v: libc::rlim_t) -> u64 {
    if v == libc::RLIM_INFINITY {
        u64::MAX
    } else {
        v as u64
    }
}

/// A `u64` limit as an `rlim_t` (capped to what a signed `rlim_t` holds).
#[allow(clippy::unnecessary_cast)]
fn from_u64(v: u64) -> libc::rlim_t {
    v.min(i64::MAX as u64) as libc::rlim_t
}

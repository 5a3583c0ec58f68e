//! Whether the kernel lets this process have io_uring, and if not, exactly why.
//!
//! Refusals come from four places, checked in this order: the `kernel.io_uring_disabled` sysctl
//! (Linux 6.6+), `io_uring_setup` itself (no kernel support, a seccomp filter, the memlock
//! limit), the ring's feature flags, and the opcode table the kernel reports through
//! `IORING_REGISTER_PROBE`. The answer is worked out once per process.

use std::fs;
use std::io::{self, ErrorKind};
use std::sync::OnceLock;

use io_uring::{opcode, IoUring, Probe};

use crate::error;

/// Every opcode the driver submits, by name (what a refusal lists).
const OPCODES: [(u8, &str); 11] = [
    (opcode::Nop::CODE, "NOP"),
    (opcode::Accept::CODE, "ACCEPT"),
    (opcode::Connect::CODE, "CONNECT"),
    (opcode::Recv::CODE, "RECV"),
    (opcode::Send::CODE, "SEND"),
    (opcode::SendMsg::CODE, "SENDMSG"),
    (opcode::RecvMsg::CODE, "RECVMSG"),
    (opcode::Read::CODE, "READ"),
    (opcode::Write::CODE, "WRITE"),
    (opcode::PollAdd::CODE, "POLL_ADD"),
    (opcode::AsyncCancel::CODE, "ASYNC_CANCEL"),
];

const DISABLED: &str = "/proc/sys/kernel/io_uring_disabled";
const GROUP: &str = "/proc/sys/kernel/io_uring_group";

/// `Ok` if io_uring works for this process, else an `Unsupported` error that says why.
pub(crate) fn probe() -> io::Result<()> {
    static ANSWER: OnceLock<Result<(), String>> = OnceLock::new();
    match ANSWER.get_or_init(|| check().map_err(|e| e.to_string())) {
        Ok(()) => Ok(()),
        Err(why) => Err(io::Error::new(ErrorKind::Unsupported, why.clone())),
    }
}

fn check() -> io::Result<()> {
    if sysctl(DISABLED) == Some(2) {
        return Err(refused(format!(
            "{DISABLED} is 2: io_uring is disabled for every process on this machine \
             (an administrator can set it to 0)"
        )));
    }
    let ring = build(4, false).map_err(|e| match e.kind() {
        ErrorKind::Unsupported => e,
        _ => refused(format!("io_uring_setup failed: {e}")),
    })?;
    let params = ring.params();
    for (has, name, since) in [
        (params.is_feature_nodrop(), "IORING_FEAT_NODROP (no completion is ever dropped)", "5.5"),
        (params.is_feature_ext_arg(), "IORING_FEAT_EXT_ARG (waiting with a timeout)", "5.11"),
        (params.is_feature_rw_cur_pos(), "IORING_FEAT_RW_CUR_POS (reads at the file position)", "5.6"),
    ] {
        if !has {
            return Err(refused(format!("the kernel lacks {name}, which came with Linux {since}")));
        }
    }
    let mut probe = Probe::new();
    if let Err(e) = ring.submitter().register_probe(&mut probe) {
        return Err(refused(format!(
            "IORING_REGISTER_PROBE failed ({e}): the kernel cannot say which opcodes it has \
             (before Linux 5.6)"
        )));
    }
    let missing: Vec<&str> =
        OPCODES.iter().filter(|(code, _)| !probe.is_supported(*code)).map(|(_, name)| *name).collect();
    if !missing.is_empty() {
        return Err(refused(format!("the kernel lacks the opcodes {}", missing.join(", "))));
    }
    Ok(())
}

/// Opens a ring of `entries` submission slots (completion queue 4× that). A refusal whose cause
/// is known comes back `Unsupported` with the explanation; other errors pass through.
///
/// `single_issuer`: only the calling thread will submit and wait, so completion work may wait
/// for its `io_uring_enter` instead of interrupting it (`SINGLE_ISSUER | DEFER_TASKRUN`, 6.1).
/// Each flag the kernel does not know (`EINVAL`) is dropped, newest first.
pub(super) fn build(entries: u32, single_issuer: bool) -> io::Result<IoUring> {
    let mut plain = IoUring::builder();
    plain.setup_cqsize(entries * 4);
    // SUBMIT_ALL (5.18): an SQE the kernel rejects does not hold back the ones queued after it.
    let mut submit_all = plain.clone();
    submit_all.setup_submit_all();
    let mut tries = vec![submit_all, plain];
    if single_issuer {
        let mut deferred = tries[0].clone();
        deferred.setup_single_issuer().setup_defer_taskrun();
        tries.insert(0, deferred);
    }
    let last = tries.len() - 1;
    for (i, builder) in tries.into_iter().enumerate() {
        match builder.build(entries) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && i < last => continue,
            res => return res.map_err(setup_refused),
        }
    }
    unreachable!("the last builder returns")
}

/// Why `io_uring_setup` failed, in words, if the cause is one of the known refusals.
pub(super) fn setup_refused(e: io::Error) -> io::Error {
    let why = match e.raw_os_error() {
        Some(libc::ENOSYS) => "io_uring_setup failed with ENOSYS: this kernel has no io_uring (before \
                               Linux 5.1, or built without CONFIG_IO_URING), or a seccomp filter hides it"
            .to_string(),
        Some(libc::EPERM) => match sysctl(DISABLED) {
            Some(1) => {
                let group = sysctl(GROUP).map_or_else(|| "kernel.io_uring_group".to_string(), |g| format!("{g}"));
                format!(
                    "io_uring_setup failed with EPERM: {DISABLED} is 1, so only processes with \
                     CAP_SYS_ADMIN or in group {group} ({GROUP}) may create rings, and this one is neither"
                )
            }
            _ => "io_uring_setup failed with EPERM: a seccomp filter (the default of Docker and \
                  most container runtimes) or a security module forbids io_uring to this process"
                .to_string(),
        },
        Some(libc::ENOMEM) => "io_uring_setup failed with ENOMEM: the ring's memory cannot be locked; \
                               RLIMIT_MEMLOCK (`ulimit -l`) is too low (kernels before 5.12 charge rings \
                               to it), or memory is short"
            .to_string(),
        _ => return e,
    };
    refused(why)
}

fn refused(why: String) -> io::Error {
    error::backend_unavailable_port("uring", &why)
}

/// A sysctl holding one number, if it exists (`io_uring_disabled` came with Linux 6.6).
fn sysctl(path: &str) -> Option<i64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

//! The machine line: cores, OS and kernel, and which backends work here (and why others not).

use overlap::{Backend, PortBackend};

/// One line describing this machine for the report (call it before pinning threads: the core
/// count is what this process may use).
pub(crate) fn describe() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).ok();
    let os = match kernel {
        Some(k) => format!("{} {k}", std::env::consts::OS),
        None => std::env::consts::OS.to_string(),
    };
    let readiness: Vec<&str> = Backend::available().iter().map(|b| b.name()).collect();
    let completion: Vec<&str> = PortBackend::available().iter().map(|b| b.name()).collect();
    let line = format!(
        "{cores} cores, {os} {}; readiness: {}; completion: {}",
        std::env::consts::ARCH,
        readiness.join(" "),
        completion.join(" ")
    );
    // Why a native backend is missing, when the OS has it (io_uring refused by the kernel).
    match PortBackend::Uring.check() {
        Err(e) if cfg!(target_os = "linux") => format!("{line} (uring: {e})"),
        _ => line,
    }
}

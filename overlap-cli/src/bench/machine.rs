//! The machine line: cores, OS and kernel, and which backends work here (and why others not).

use overlap::{PortBackend, ReactorBackend};

/// One line describing this machine for the report (call it before pinning threads: the core
/// count is what this process may use).
pub(crate) fn describe() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).ok();
    let os = match kernel {
        Some(k) => format!("{} {k}", std::env::consts::OS),
        None => std::env::consts::OS.to_string(),
    };
    let readiness: Vec<&str> = ReactorBackend::available().iter().map(|b| b.name()).collect();
    let completion: Vec<&str> = PortBackend::available().iter().map(|b| b.name()).collect();
    // Why the others are not here: another OS, or the kernel refused (io_uring).
    let mut missing: Vec<String> = Vec::new();
    let why = |e: std::io::Error| {
        let e = e.to_string();
        e.split_once("here: ").map_or(e.clone(), |(_, why)| why.to_string())
    };
    for b in ReactorBackend::ALL {
        if let Err(e) = b.check() {
            missing.push(format!("{} ({})", b.name(), why(e)));
        }
    }
    for b in PortBackend::ALL {
        // An emulation over a missing readiness backend is said above already.
        if let (PortBackend::Iocp | PortBackend::Uring, Err(e)) = (b, b.check()) {
            missing.push(format!("{} ({})", b.name(), why(e)));
        }
    }
    let mut line = format!(
        "{cores} cores, {os} {}; readiness: {}; completion: {}",
        std::env::consts::ARCH,
        readiness.join(" "),
        completion.join(" ")
    );
    if !missing.is_empty() {
        line = format!("{line}; not here: {}", missing.join(", "));
    }
    line
}

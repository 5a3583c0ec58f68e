//! `overlap backends`: the table of backends and why some are missing.

use std::io::{self, Write};

use overlap::{PortBackend, ReactorBackend};

/// One row of the table.
struct Row {
    model: &'static str,
    backend: &'static str,
    status: Result<(), String>,
    note: &'static str,
}

fn rows() -> Vec<Row> {
    let default = ReactorBackend::default();
    let readiness = ReactorBackend::ALL.into_iter().map(|b| Row {
        model: "readiness (Reactor)",
        backend: b.name(),
        status: b.check().map_err(|e| e.to_string()),
        note: match (b, b == default) {
            (ReactorBackend::Afd, true) => "emulated over IOCP, default",
            (ReactorBackend::Afd, false) => "emulated over IOCP",
            (_, true) => "default",
            _ => "",
        },
    });
    let port_default = PortBackend::available().first().copied();
    let completion = PortBackend::ALL.into_iter().map(|b| Row {
        model: "completion (Port)",
        backend: b.name(),
        status: b.check().map_err(|e| e.to_string()),
        note: match (b, Some(b) == port_default) {
            (PortBackend::Uring | PortBackend::Iocp, true) => "native, default",
            (PortBackend::Uring | PortBackend::Iocp, false) => "native",
            (_, true) => "emulated over readiness, default",
            _ => "emulated over readiness",
        },
    });
    readiness.chain(completion).collect()
}

/// Prints the table to `out`.
pub fn run(out: &mut impl Write) -> io::Result<()> {
    let rows = rows();
    writeln!(out, "{:<22} {:<8} {:<11} detail", "model", "backend", "available")?;
    for r in &rows {
        let (avail, detail) = match &r.status {
            Ok(()) => ("yes", r.note.to_string()),
            Err(why) => ("no", why.clone()),
        };
        writeln!(out, "{:<22} {:<8} {:<11} {}", r.model, r.backend, avail, detail)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_every_backend_with_a_verdict() {
        let mut out = Vec::new();
        run(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        for b in ReactorBackend::ALL {
            let line = text.lines().find(|l| l.starts_with("readiness") && l.split_whitespace().any(|w| w == b.name()));
            let line = line.unwrap_or_else(|| panic!("no row for {b}:\n{text}"));
            assert_eq!(line.contains(" yes "), b.check().is_ok(), "{b}: {line}");
        }
        for b in PortBackend::ALL {
            let line =
                text.lines().find(|l| l.starts_with("completion") && l.split_whitespace().any(|w| w == b.name()));
            let line = line.unwrap_or_else(|| panic!("no row for {b}:\n{text}"));
            assert_eq!(line.contains(" yes "), b.check().is_ok(), "{b}: {line}");
        }
    }
}

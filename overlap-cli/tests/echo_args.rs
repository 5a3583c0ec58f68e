//! `overlap echo-server` with flags it cannot honour: a clear one-line error and a non-zero exit,
//! never a server that starts anyway.

mod common;

use common::Overlap;

/// The process must end with a failure before serving, and say `what` on stderr.
fn refused(args: &[&str], what: &[&str]) {
    let mut p = Overlap::start(args);
    if let Some(line) = p.first_line() {
        panic!("{args:?} started a server instead of failing: {line:?}");
    }
    let (status, stderr) = p.exit();
    let status = status.unwrap_or_else(|| panic!("{args:?} did not end"));
    assert!(!status.success(), "{args:?}: exit {status}, stderr {stderr:?}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    for w in what {
        assert!(stderr.contains(w), "{args:?}: {w:?} in {stderr:?}");
    }
}

#[test]
fn thread_counts_out_of_range_are_refused() {
    refused(&["echo-server", "--port", "0", "--threads", "0"], &["--threads", "1..=1024"]);
    refused(&["echo-server", "--port", "0", "--model", "readiness", "--threads", "100000"], &["--threads", "1..=1024"]);
}

#[test]
fn backends_that_cannot_serve_are_refused() {
    refused(&["echo-server", "--port", "0", "--backend", "select"], &["select", "uring", "epoll"]);
    // A completion-only backend asked of a readiness model: say which model has it.
    for model in ["readiness", "event", "bufferevent"] {
        refused(
            &["echo-server", "--port", "0", "--model", model, "--backend", "uring"],
            &["uring", "--model completion"],
        );
        for b in overlap::ReactorBackend::ALL.into_iter().filter(|b| b.check().is_err()) {
            refused(
                &["echo-server", "--port", "0", "--model", model, "--backend", b.name()],
                &[b.name(), "not available"],
            );
        }
    }
}

//! `overlap echo-server` on a port that another server holds: refused with a one-line error,
//! unless both servers ask to share it with `--reuse-port` (SO_REUSEPORT, Unix only).
#![cfg(unix)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::Overlap;

/// Every model, each with two threads (the readiness, event and bufferevent models then bind a
/// listener per thread).
const MODELS: [&str; 4] = ["readiness", "completion", "event", "bufferevent"];

fn server(model: &str, port: &str, reuse: bool) -> Overlap {
    let mut args = vec!["echo-server", "--port", port, "--model", model, "--threads", "2"];
    if reuse {
        args.push("--reuse-port");
    }
    Overlap::start(&args)
}

fn port_of(addr: &str) -> String {
    addr.rsplit(':').next().expect("a port").to_string()
}

/// The second server must end with a failure and exactly one line on stderr, naming the port.
fn assert_refused(mut second: Overlap, port: &str, what: &str) -> String {
    if let Some(line) = second.first_line() {
        panic!("{what}: the second server started on port {port}, which is in use: {line:?}");
    }
    let (status, stderr) = second.exit();
    let status = status.unwrap_or_else(|| panic!("{what}: the second server did not end"));
    assert!(!status.success(), "{what}: exit {status}, stderr {stderr:?}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{what}: one line on stderr: {stderr:?}");
    assert!(
        stderr.starts_with("overlap: ") && stderr.contains(port) && stderr.contains("in use"),
        "{what}: {stderr:?}"
    );
    stderr
}

fn echoes(addr: &str) {
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(common::PATIENCE)).unwrap();
    c.write_all(b"ping").unwrap();
    let mut got = [0u8; 4];
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
}

#[test]
fn second_server_on_a_port_in_use_is_refused() {
    for model in MODELS {
        let mut first = server(model, "0", false);
        let addr = first.listening_on();
        let port = port_of(&addr);
        assert_refused(server(model, &port, false), &port, model);
        echoes(&addr);
    }
}

/// A server that did not ask to share, on one listener, cannot be joined even by one that asks.
/// (The readiness, event and bufferevent models with several threads share the port among their
/// own listeners with SO_REUSEPORT, and the kernel lets any SO_REUSEPORT socket of the same user
/// join those: there the error says `--reuse-port` would share it.)
#[test]
fn a_server_that_does_not_share_is_not_joined() {
    for (model, threads) in [("completion", "2"), ("readiness", "1"), ("event", "1"), ("bufferevent", "1")] {
        let mut first = Overlap::start(&["echo-server", "--port", "0", "--model", model, "--threads", threads]);
        let addr = first.listening_on();
        let port = port_of(&addr);
        let stderr = assert_refused(server(model, &port, false), &port, model);
        assert!(!stderr.contains("--reuse-port"), "{model}: the first server does not share: {stderr:?}");
        let stderr = assert_refused(server(model, &port, true), &port, &format!("{model} --reuse-port"));
        assert!(stderr.contains("does not share"), "{model}: {stderr:?}");
        echoes(&addr);
    }
}

#[test]
fn reuse_port_shares_a_port_between_servers_that_ask() {
    for model in MODELS {
        let mut first = server(model, "0", true);
        let addr = first.listening_on();
        let port = port_of(&addr);
        // Without the flag: refused, and told how to share.
        let stderr = assert_refused(server(model, &port, false), &port, model);
        assert!(stderr.contains("--reuse-port"), "{model}: {stderr:?}");
        // With it: both serve.
        let mut second = server(model, &port, true);
        assert_eq!(second.listening_on(), addr, "{model}");
        // The kernel spreads connections over both: every one is served.
        for _ in 0..8 {
            echoes(&addr);
        }
    }
}

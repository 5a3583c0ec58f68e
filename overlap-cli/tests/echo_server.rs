//! `overlap echo-server` as a process: it prints its address, echoes, and exits cleanly on
//! SIGTERM and SIGINT (Unix only: Windows has no signals to send it).
#![cfg(unix)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use common::Overlap;

fn serve_then_signal(model: &str, signal: &str) {
    let mut server = Overlap::start(&["echo-server", "--port", "0", "--model", model, "--threads", "2"]);
    let addr = server.listening_on();
    let mut c = TcpStream::connect(&addr).expect("connect");
    c.set_read_timeout(Some(common::PATIENCE)).unwrap();
    c.write_all(b"ping").unwrap();
    let mut got = [0u8; 4];
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
    let status = Command::new("kill").args([signal, &server.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let (status, stderr) = server.exit();
    let status = status.unwrap_or_else(|| panic!("{model}: no exit within {:?} of {signal}", common::PATIENCE));
    assert!(status.success(), "{model}: exit status {status} after {signal}: {stderr}");
}

#[test]
fn completion_model_exits_on_sigterm() {
    serve_then_signal("completion", "-TERM");
}

#[test]
fn readiness_model_exits_on_sigint() {
    serve_then_signal("readiness", "-INT");
}

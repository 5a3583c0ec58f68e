//! `overlap echo-server` as a process: it prints its address, echoes, and exits cleanly on
//! SIGTERM and SIGINT (Unix only: Windows has no signals to send it).
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn serve_then_signal(model: &str, signal: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_overlap"))
        .args(["echo-server", "--port", "0", "--model", model, "--threads", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start overlap");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).expect("the first line");
    let addr = line.split_whitespace().nth(2).unwrap_or_else(|| panic!("no address in {line:?}"));
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    c.write_all(b"ping").unwrap();
    let mut got = [0u8; 4];
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{model}: no exit within 30 s of {signal}");
        }
        std::thread::sleep(Duration::from_millis(20)); // polling for the exit, not synchronising
    };
    assert!(status.success(), "{model}: exit status {status} after {signal}");
}

#[test]
fn completion_model_exits_on_sigterm() {
    serve_then_signal("completion", "-TERM");
}

#[test]
fn readiness_model_exits_on_sigint() {
    serve_then_signal("readiness", "-INT");
}

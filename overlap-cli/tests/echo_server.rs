//! `overlap echo-server` as a process: it prints its address, echoes, and exits cleanly on
//! SIGTERM and SIGINT (Unix only: Windows has no signals to send it); the models on the event
//! loop (`--api event`, `--api bufferevent`) also echo large pipelined streams intact and serve
//! many connections at once.
#![cfg(unix)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::thread;

use common::Overlap;

fn serve_then_signal(model: &str, signal: &str) {
    serve_with_then_signal(&["--model", model, "--threads", "2"], signal);
}

/// Starts a server with `args`, checks that it echoes, sends it `signal` and checks that it
/// exits cleanly.
fn serve_with_then_signal(args: &[&str], signal: &str) {
    let model = args.join(" ");
    let mut server = Overlap::start(&[&["echo-server", "--port", "0"], args].concat());
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

/// The models on the event loop: raw events and buffered events.
const LOOP_MODELS: [&str; 2] = ["event", "bufferevent"];

#[test]
fn event_models_exit_on_sigterm_and_sigint() {
    for model in LOOP_MODELS {
        serve_with_then_signal(&["--model", model], "-TERM");
        serve_with_then_signal(&["--api", model, "--threads", "2"], "-INT");
    }
}

/// A stream of `len` bytes that tells where a byte went missing or came twice.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed).collect()
}

/// Sends `data` on `c` from another thread while reading the echo here: the echo must be
/// `data`, byte for byte (the client never waits for the echo before sending more, so the
/// server's output backs up and its reading must pause and resume without loss).
fn pipelined(c: TcpStream, data: Vec<u8>) {
    c.set_read_timeout(Some(common::PATIENCE)).unwrap();
    let mut writer = c.try_clone().unwrap();
    let sent = data.clone();
    let w = thread::spawn(move || writer.write_all(&sent));
    let mut got = vec![0u8; data.len()];
    (&c).read_exact(&mut got).expect("the whole echo");
    w.join().unwrap().expect("sent");
    let first_bad = got.iter().zip(&data).position(|(a, b)| a != b);
    assert!(first_bad.is_none(), "echo differs from byte {first_bad:?} on");
}

#[test]
fn event_models_echo_large_pipelined_streams_intact() {
    let backends = overlap::ReactorBackend::available();
    for (model, backend) in LOOP_MODELS.iter().flat_map(|m| backends.iter().map(move |b| (*m, *b))) {
        let args = ["echo-server", "--port", "0", "--model", model, "--backend", backend.name()];
        let mut server = Overlap::start(&args);
        let addr = server.listening_on();
        // Four connections at once, each streaming 8 MiB (far more than the socket buffers
        // hold).
        let clients: Vec<_> = (0..4u8)
            .map(|k| {
                let addr = addr.clone();
                thread::spawn(move || pipelined(TcpStream::connect(&addr).expect("connect"), pattern(8 << 20, k)))
            })
            .collect();
        for c in clients {
            c.join().unwrap_or_else(|_| panic!("{model}/{backend}: a client failed"));
        }
        Command::new("kill").args(["-TERM", &server.id().to_string()]).status().expect("kill");
        let (status, stderr) = server.exit();
        assert!(status.is_some_and(|s| s.success()), "{model}/{backend}: {status:?} {stderr}");
    }
}

#[test]
fn event_models_serve_many_connections_at_once() {
    for (model, threads) in LOOP_MODELS.iter().flat_map(|m| [(*m, "1"), (*m, "2")]) {
        let mut server = Overlap::start(&["echo-server", "--port", "0", "--api", model, "--threads", threads]);
        let addr = server.listening_on();
        let clients: Vec<TcpStream> = (0..500).map(|_| TcpStream::connect(&addr).expect("connect")).collect();
        // Three messages each, all sent before any is read back.
        for round in 0..3u8 {
            for (i, mut c) in clients.iter().enumerate() {
                c.write_all(&[round, i as u8, (i >> 8) as u8]).unwrap();
            }
        }
        for (i, mut c) in clients.iter().enumerate() {
            c.set_read_timeout(Some(common::PATIENCE)).unwrap();
            let mut got = [0u8; 9];
            c.read_exact(&mut got).unwrap_or_else(|e| panic!("{model}, threads {threads}, client {i}: {e}"));
            let one = |r: u8| [r, i as u8, (i >> 8) as u8];
            assert_eq!(got[..], [one(0), one(1), one(2)].concat(), "{model}, threads {threads}, client {i}");
        }
        // Closed connections are let go: the server still serves new ones.
        drop(clients);
        let mut c = TcpStream::connect(&addr).expect("connect");
        c.set_read_timeout(Some(common::PATIENCE)).unwrap();
        c.write_all(b"again").unwrap();
        let mut got = [0u8; 5];
        c.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"again");
    }
}

//! Conformance at scale for the completion model: an accept storm of 1000 connections with
//! several accepts outstanding, and 1000 concurrent echo connections served by a worker pool.
//! Every case runs on every available completion backend, one at a time.

mod util;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use overlap::op::{Accept, Recv, Send as SendOp};
use overlap::PortBackend;
use util::*;

const ACCEPT: usize = 1;
const RECV: usize = 2;
const SEND: usize = 3;
const QUIT: usize = usize::MAX;

fn accept_storm_1000(b: PortBackend) {
    raise_fd_limit();
    let port = port(b);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let lh = port.associate(l, 0).unwrap();
    for _ in 0..16 {
        port.submit(Accept::new(&lh), ACCEPT).unwrap();
    }
    let clients = std::thread::spawn(move || (0..1000).map(|_| TcpStream::connect(addr).unwrap()).collect::<Vec<_>>());
    let mut accepted = Vec::new();
    while accepted.len() < 1000 {
        let c = next(&port, "accepts");
        let (res, mut op) = c.into_op::<Accept>().unwrap().unpack();
        res.unwrap();
        assert!(op.peer_addr().is_some_and(|a| a.ip().is_loopback()));
        accepted.push(op.take_socket().expect("a socket"));
        if accepted.len() + 16 <= 1000 {
            port.submit(Accept::new(&lh), ACCEPT).unwrap();
        }
    }
    let clients = clients.join().unwrap();
    assert_eq!((accepted.len(), clients.len()), (1000, 1000));
}

fn echo_1000_connections(b: PortBackend) {
    raise_fd_limit();
    let port = port(b);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let lh = port.associate(l, 0).unwrap();
    for _ in 0..8 {
        port.submit(Accept::new(&lh), ACCEPT).unwrap();
    }
    // Handles by key, so a completion can find its connection's handle.
    let handles: Arc<std::sync::Mutex<Vec<Option<overlap::Handle>>>> = Arc::default();
    let echoed = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (port, lh, handles, echoed) = (port.clone(), lh.clone(), handles.clone(), echoed.clone());
            std::thread::spawn(move || loop {
                let c = port.wait(Some(PATIENCE)).unwrap().expect("a completion within patience");
                match c.user_data() {
                    QUIT => return,
                    ACCEPT => {
                        let mut op = c.into_op::<Accept>().unwrap().1;
                        let sock = op.take_socket().expect("accepted");
                        let mut hs = handles.lock().unwrap();
                        let key = hs.len();
                        let h = port.associate(sock, key).unwrap();
                        hs.push(Some(h.clone()));
                        drop(hs);
                        port.submit(Recv::new(&h, Vec::with_capacity(64)), RECV).unwrap();
                        port.submit(Accept::new(&lh), ACCEPT).unwrap();
                    }
                    RECV => {
                        let key = c.key();
                        let (n, op) = c.into_op::<Recv<Vec<u8>>>().unwrap().unpack();
                        let h = handles.lock().unwrap()[key].clone().expect("live connection");
                        match n.unwrap() {
                            0 => handles.lock().unwrap()[key] = None, // the client left
                            _ => {
                                port.submit(SendOp::new(&h, op.into_buf()), SEND).unwrap();
                            }
                        }
                    }
                    SEND => {
                        let key = c.key();
                        let (n, op) = c.into_op::<SendOp<Vec<u8>>>().unwrap().unpack();
                        let mut buf = op.into_buf();
                        assert_eq!(n.unwrap(), buf.len());
                        echoed.fetch_add(1, Ordering::SeqCst);
                        buf.clear();
                        let h = handles.lock().unwrap()[key].clone();
                        if let Some(h) = h {
                            port.submit(Recv::new(&h, buf), RECV).unwrap();
                        }
                    }
                    other => panic!("unexpected {other}"),
                }
            })
        })
        .collect();
    // 1000 clients connected at once, each echoing 3 messages.
    let clients: Vec<TcpStream> = (0..1000).map(|_| TcpStream::connect(addr).unwrap()).collect();
    for round in 0..3u8 {
        for (i, mut c) in clients.iter().enumerate() {
            c.write_all(&[round, (i % 251) as u8]).unwrap();
        }
        for (i, mut c) in clients.iter().enumerate() {
            c.set_read_timeout(Some(PATIENCE)).unwrap();
            let mut got = [0u8; 2];
            c.read_exact(&mut got).unwrap();
            assert_eq!(got, [round, (i % 251) as u8], "[{b}] client {i} round {round}");
        }
    }
    // A client can read its echo before the worker has taken the send's completion: wait for
    // the count before telling the workers to quit, or a QUIT could overtake the last sends.
    until(b, "every send completion counted", || echoed.load(Ordering::SeqCst) >= 3000);
    drop(clients);
    for _ in &threads {
        port.post(0, QUIT, 0).unwrap();
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(echoed.load(Ordering::SeqCst), 3000, "every message was echoed once");
}

fn main() {
    let cases = cases![accept_storm_1000, echo_1000_connections];
    run_port_suite("port_scale", cases, vec![], true);
}

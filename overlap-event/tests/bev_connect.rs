//! Conformance: buffered events that connect (`connect`, `connect_hostname`: success,
//! refusal, timeout, a name that does not resolve) and listeners that accept them, on every
//! available backend.

mod util;

use std::cell::RefCell;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::time::Duration;

use overlap_event::{BufferEvent, EventBase, Flags, Listener, ListenerOptions, Method, What};
use util::*;

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Serves `sock` with a buffered event that echoes (freed at EOF or an error).
fn echo_conn(base: &mut EventBase, sock: socket2::Socket) {
    let bev = BufferEvent::socket(base, sock).unwrap();
    bev.on_read(|_, bev| {
        let mut input = std::mem::take(&mut *bev.input());
        bev.write_buffer(&mut input).unwrap();
    });
    bev.on_event(|base, bev, what| {
        if what.intersects(What::EOF | What::ERROR) {
            bev.free(base).unwrap();
        }
    });
    bev.enable(base, Flags::READ).unwrap();
}

/// A listener whose connections echo through buffered events.
fn echo_listener(base: &mut EventBase) -> Listener {
    Listener::bind(base, localhost(), ListenerOptions::new(), |base, _, sock, _| echo_conn(base, sock)).unwrap()
}

/// Connects, gets CONNECTED, and an echo of what it wrote before the connect finished.
fn connect_and_echo(b: Method) {
    let mut base = base(b);
    let listener = echo_listener(&mut base);
    let client = BufferEvent::new(&mut base).unwrap();
    client.write(b"written before connecting").unwrap();
    let seen = log::<String>();
    let s = seen.clone();
    client.on_event(move |_, _, what| s.borrow_mut().push(format!("{what:?}")));
    let (s, l) = (seen.clone(), listener.clone());
    client.on_read(move |base, bev| {
        if bev.input().len() == 25 {
            s.borrow_mut().push(String::from_utf8(bev.input().to_vec()).unwrap());
            bev.free(base).unwrap();
            l.free(base).unwrap();
        }
    });
    client.connect(&mut base, listener.local_addr().unwrap()).unwrap();
    client.enable(&mut base, Flags::READ).unwrap();
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), vec!["CONNECTED".to_string(), "written before connecting".to_string()]);
}

/// Nobody listens: ERROR (from the loop, not from `connect`), with the refusal kept.
fn connect_refused(b: Method) {
    let mut base = base(b);
    let addr = {
        let l = TcpListener::bind(localhost()).unwrap();
        l.local_addr().unwrap()
    };
    let client = BufferEvent::new(&mut base).unwrap();
    let seen = log::<What>();
    let s = seen.clone();
    client.on_event(move |base, bev, what| {
        s.borrow_mut().push(what);
        assert_eq!(bev.error().map(|e| e.kind()), Some(ErrorKind::ConnectionRefused));
        bev.free(base).unwrap();
    });
    client.connect(&mut base, addr).unwrap();
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), vec![What::ERROR]);
}

/// A connect refused, then another from the event callback to a port that listens: the
/// second connect gets a new socket (the first cannot connect again) and connects.
fn connect_again_after_refused(b: Method) {
    let mut base = base(b);
    let refused = {
        let l = TcpListener::bind(localhost()).unwrap();
        l.local_addr().unwrap()
    };
    let listener = TcpListener::bind(localhost()).unwrap();
    let open = listener.local_addr().unwrap();
    let client = BufferEvent::new(&mut base).unwrap();
    let seen = log::<What>();
    let s = seen.clone();
    client.on_event(move |base, bev, what| {
        s.borrow_mut().push(what);
        if what == What::ERROR {
            assert!(bev.fd().is_some(), "[{b}] the failed socket stays until the next connect");
            bev.connect(base, open).unwrap();
        } else {
            base.loopbreak();
        }
    });
    client.connect(&mut base, refused).unwrap();
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), vec![What::ERROR, What::CONNECTED], "[{b}]");
    listener.accept().unwrap();
    client.free(&mut base).unwrap();
}

/// A listener whose queue is full drops the handshake: the write timeout ends the connect
/// with WRITING|TIMEOUT.
fn connect_timeout(b: Method) {
    let mut base = base(b);
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&localhost().into()).unwrap();
    sock.listen(0).unwrap();
    let addr = sock.local_addr().unwrap().as_socket().unwrap();
    // Fill the accept queue (never accepted): later handshakes are dropped.
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let f = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        f.set_nonblocking(true).unwrap();
        let _ = f.connect(&addr.into());
        fillers.push(f);
    }
    std::thread::sleep(Duration::from_millis(50)); // not synchronisation: lets handshakes land
    let client = BufferEvent::new(&mut base).unwrap();
    client.set_timeouts(&mut base, None, Some(Duration::from_millis(200))).unwrap();
    let seen = log::<What>();
    let s = seen.clone();
    client.on_event(move |base, bev, what| {
        s.borrow_mut().push(what);
        bev.free(base).unwrap();
    });
    client.connect(&mut base, addr).unwrap();
    dispatch(&mut base);
    let seen = seen.borrow();
    if seen.as_slice() == [What::CONNECTED] {
        // This system's stack accepted the handshake anyway: nothing to time out here.
        eprintln!("[{b}] connect_timeout: the full queue did not drop the handshake; case not exercised");
        return;
    }
    assert_eq!(*seen, vec![What::WRITING | What::TIMEOUT]);
    drop(fillers);
}

/// `connect_hostname("localhost")` resolves off the loop and connects.
fn connect_hostname_localhost(b: Method) {
    let mut base = base(b);
    let listener = echo_listener(&mut base);
    let port = listener.local_addr().unwrap().port();
    let client = BufferEvent::new(&mut base).unwrap();
    let seen = log::<What>();
    let (s, l) = (seen.clone(), listener.clone());
    client.on_event(move |base, bev, what| {
        s.borrow_mut().push(what);
        bev.free(base).unwrap();
        l.free(base).unwrap();
    });
    client.connect_hostname(&mut base, "localhost", port).unwrap();
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), vec![What::CONNECTED]);
}

/// A name that does not resolve: ERROR, and `error()` says so.
fn connect_hostname_unresolvable(b: Method) {
    let mut base = base(b);
    let client = BufferEvent::new(&mut base).unwrap();
    let seen = log::<What>();
    let s = seen.clone();
    client.on_event(move |base, bev, what| {
        s.borrow_mut().push(what);
        assert!(bev.error().is_some());
        bev.free(base).unwrap();
    });
    client.connect_hostname(&mut base, "no-such-host.invalid", 80).unwrap();
    dispatch(&mut base);
    assert_eq!(*seen.borrow(), vec![What::ERROR]);
}

/// Freed while its name resolves: nothing runs, the loop ends.
fn free_while_resolving(b: Method) {
    let mut base = base(b);
    let client = BufferEvent::new(&mut base).unwrap();
    client.on_event(|_, _, _| panic!("a freed buffered event must not call back"));
    client.connect_hostname(&mut base, "localhost", 9).unwrap();
    client.free(&mut base).unwrap();
    assert_eq!(base.num_events(), 0);
    dispatch(&mut base);
}

/// One listener, 1000 connections at once, each echoing its own bytes.
fn listener_thousand_connections(b: Method) {
    const N: usize = 1000;
    let mut base = base(b);
    let accepted = counter();
    let a = accepted.clone();
    let listener = echo_listener(&mut base);
    listener.on_accept(move |base, _, sock, peer| {
        assert!(peer.ip().is_loopback());
        a.set(a.get() + 1);
        echo_conn(base, sock);
    });
    let addr = listener.local_addr().unwrap();
    let handle = base.handle();
    raise_fd_limit(2 * N + 100); // before the clients open theirs
    let clients = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let mut conns = Vec::new();
        for i in 0..N {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(PATIENCE)).unwrap();
            c.write_all(format!("{i:08}").as_bytes()).unwrap();
            conns.push(c);
        }
        for (i, c) in conns.iter_mut().enumerate() {
            let mut buf = [0u8; 8];
            c.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, format!("{i:08}").as_bytes());
        }
        drop(conns);
        handle.run(move |base| {
            // Let the EOFs arrive and free their buffered events, then stop.
            let _ = base.loopexit(Some(Duration::from_millis(100)));
        })
    });
    dispatch(&mut base);
    clients.join().unwrap().unwrap();
    assert_eq!(accepted.get(), N);
    listener.free(&mut base).unwrap();
}

/// 100 listeners on one base, each accepting its connection.
fn hundred_listeners(b: Method) {
    let mut base = base(b);
    let done = Rc::new(RefCell::new(vec![false; 100]));
    let mut listeners = Vec::new();
    for i in 0..100 {
        let d = done.clone();
        let l = Listener::bind(&mut base, localhost(), ListenerOptions::new(), move |base, l, _sock, _| {
            d.borrow_mut()[i] = true;
            l.free(base).unwrap();
        })
        .unwrap();
        listeners.push(l.local_addr().unwrap());
    }
    let clients = std::thread::spawn(move || {
        listeners.iter().map(|a| std::net::TcpStream::connect(a).unwrap()).collect::<Vec<_>>()
    });
    dispatch(&mut base);
    drop(clients.join().unwrap());
    assert!(done.borrow().iter().all(|&d| d), "every listener accepted");
}

/// One listening socket shared by two bases (a clone each, as a server with a base per thread
/// and no SO_REUSEPORT has): both accept. On Windows a socket joins one IOCP only, so on
/// ports the second accepts on readiness instead of failing.
fn listener_shared_by_two_bases(b: Method) {
    let (mut one, mut two) = (base(b), base(b));
    let sock = TcpListener::bind(localhost()).unwrap();
    let addr = sock.local_addr().unwrap();
    let clone = sock.try_clone().unwrap();
    let got = counter();
    let mut listeners = Vec::new();
    for (base, sock) in [(&mut one, sock), (&mut two, clone)] {
        let g = got.clone();
        let l = Listener::from_socket(base, sock, ListenerOptions::new(), move |_, _, _, _| g.set(g.get() + 1));
        listeners.push(l.unwrap_or_else(|e| panic!("[{b}] {e}")));
    }
    let clients: Vec<_> = (0..4).map(|_| std::net::TcpStream::connect(addr).unwrap()).collect();
    let deadline = std::time::Instant::now() + PATIENCE;
    while got.get() < clients.len() && std::time::Instant::now() < deadline {
        one.run_nonblocking().unwrap();
        two.run_nonblocking().unwrap();
        std::thread::yield_now();
    }
    assert_eq!(got.get(), clients.len(), "[{b}] every connection was accepted by one of the bases");
    listeners[0].free(&mut one).unwrap();
    listeners[1].free(&mut two).unwrap();
}

/// Listener misuse: a port in use, a foreign base, a freed listener; disabled ones accept
/// nothing until enabled.
fn listener_misuse(b: Method) {
    let mut base = base(b);
    let mut other = util::base(b);
    let first = Listener::bind(&mut base, localhost(), ListenerOptions::new(), |_, _, _, _| {}).unwrap();
    let addr = first.local_addr().unwrap();
    let again = Listener::bind(&mut base, addr, ListenerOptions::new(), |_, _, _, _| {});
    assert_eq!(again.unwrap_err().kind(), ErrorKind::AddrInUse);
    assert_eq!(first.enable(&mut other).unwrap_err().kind(), ErrorKind::InvalidInput);
    first.disable(&mut base).unwrap();
    let _client = std::net::TcpStream::connect(addr).unwrap();
    assert_eq!(base.run_nonblocking().unwrap(), overlap_event::LoopEnd::NoEvents, "disabled: nothing pending");
    let got = counter();
    let g = got.clone();
    first.on_accept(move |base, l, _, _| {
        g.set(g.get() + 1);
        l.free(base).unwrap();
    });
    first.enable(&mut base).unwrap();
    dispatch(&mut base);
    assert_eq!(got.get(), 1);
    assert_eq!(first.enable(&mut base).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(base.num_events(), 0);
}

/// Freeing a listener closes its socket then, though a handle to it lives on (on the
/// completion engine, the port's duplicate of it too): a new connection is refused.
fn freed_listener_stops_listening(b: Method) {
    let mut base = base(b);
    let l = Listener::bind(&mut base, localhost(), ListenerOptions::new(), |_, _, _, _| {}).unwrap();
    let addr = l.local_addr().unwrap();
    base.run_nonblocking().unwrap(); // accepts in flight, on the completion engine
    l.free(&mut base).unwrap();
    let refused = std::net::TcpStream::connect(addr).map(|_| ()).map_err(|e| e.kind());
    assert_eq!(refused, Err(ErrorKind::ConnectionRefused), "[{b}] a connect after free");
    assert_eq!(base.num_events(), 0, "[{b}]");
    assert!(l.is_freed());
}

/// A connection reset while it waits to be accepted (on Windows the accept completes with
/// ERROR_NETNAME_DELETED) is that connection's problem: the listener does not report it as
/// an error, and the next connection is accepted.
fn listener_skips_a_connection_reset_before_accept(b: Method) {
    let mut base = base(b);
    let peers = Rc::new(RefCell::new(Vec::new()));
    let p = peers.clone();
    let listener = Listener::bind(&mut base, localhost(), ListenerOptions::new(), move |_, _, _, peer| {
        p.borrow_mut().push(peer);
    })
    .unwrap();
    let errors = log::<String>();
    let e = errors.clone();
    listener.on_error(move |_, _, err| e.borrow_mut().push(format!("{err} ({:?})", err.raw_os_error())));
    listener.disable(&mut base).unwrap();
    let addr = listener.local_addr().unwrap();
    let reset = socket2::Socket::from(std::net::TcpStream::connect(addr).unwrap());
    reset.set_linger(Some(Duration::ZERO)).unwrap();
    drop(reset); // an RST, before any accept
    let good = std::net::TcpStream::connect(addr).unwrap();
    let good_addr = good.local_addr().unwrap();
    listener.enable(&mut base).unwrap();
    let deadline = std::time::Instant::now() + PATIENCE;
    while !peers.borrow().contains(&good_addr) && std::time::Instant::now() < deadline {
        base.run_nonblocking().unwrap();
        std::thread::yield_now();
    }
    assert!(peers.borrow().contains(&good_addr), "[{b}] the next connection was accepted: {:?}", peers.borrow());
    assert!(
        errors.borrow().is_empty(),
        "[{b}] the reset connection is not the listener's error: {:?}",
        errors.borrow()
    );
    listener.free(&mut base).unwrap();
}

/// Lets this process open `n` descriptors (the soft limit up to the hard one).
fn raise_fd_limit(n: usize) {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let lim = getrlimit(Resource::Nofile);
        if lim.current.is_some_and(|c| (c as usize) < n) {
            let want = Some(lim.maximum.map_or(2 * n as u64, |m| m.min(2 * n as u64)));
            setrlimit(Resource::Nofile, Rlimit { current: want, maximum: lim.maximum }).expect("raise RLIMIT_NOFILE");
        }
    }
    let _ = n;
}

fn main() {
    run_engine_suite(
        "bev_connect",
        cases![
            connect_and_echo,
            connect_refused,
            connect_again_after_refused,
            connect_timeout,
            connect_hostname_localhost,
            connect_hostname_unresolvable,
            free_while_resolving,
            listener_thousand_connections,
            hundred_listeners,
            listener_misuse,
            listener_shared_by_two_bases,
            listener_skips_a_connection_reset_before_accept,
            freed_listener_stops_listening,
        ],
        false,
    );
}

//! Connecting: `connect(addr)` (a non-blocking connect whose end the write event reports),
//! and `connect_hostname(host, port)` (the name resolved on a short-lived thread, its answer
//! delivered to the loop through the base's handle; each address tried in turn).
//!
//! ```text
//!   connect ─► in progress ─► write event (writable) ─► SO_ERROR ─┬─ none: CONNECTED
//!      │                   └► write timeout: WRITING|TIMEOUT      └─ error: next address,
//!      └─ refused at once: reported from the loop (never from connect)      or ERROR
//! ```

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::call::event_cb;
use super::engine::{apply_socket as apply, attach, detach};
use super::shared::{Bits, BufferEvent};
use super::socket::fd_of;
use super::what::What;
use crate::base::EventBase;
use crate::deferred::Later;
use crate::flags::Flags;

/// How long a name may take to resolve before the connect fails with `TimedOut`.
pub(crate) const RESOLVE_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts connecting to `addr` (a socket is made if the buffered event has none, or if its
/// socket's last connect failed or timed out: such a socket cannot connect again).
pub(crate) fn start(base: &mut EventBase, bev: &BufferEvent, addr: SocketAddr) -> io::Result<()> {
    let s = &bev.0;
    if s.bits().has(Bits::DIAL_SPENT) {
        detach(base, s);
        s.set(Bits::DIAL_SPENT, false);
    }
    if s.socket().is_none() {
        let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        attach(base, s, sock)?;
    }
    let sock = s.socket().ok_or_else(crate::error::freed)?;
    let res = sock.connect(&addr.into());
    let fd = fd_of(&sock);
    drop(sock);
    let at_once = match res {
        Ok(()) => true,
        Err(e) if in_progress(&e) => false,
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
            // libevent reports a refusal from the loop too, never from the connect call.
            let mut st = s.st.borrow_mut();
            st.error = Some(e);
            st.dial().failed = true;
            true
        }
        Err(e) => return Err(e),
    };
    let me = bev.clone();
    let ev = base.new_event(fd, Flags::WRITE, move |base, _, fired| {
        if !me.is_freed() {
            finish(base, &me, fired);
        }
    })?;
    let timeout = s.st.borrow().write_timeout();
    if let Err(e) = base.add(ev, timeout) {
        let _ = base.free(ev);
        return Err(e);
    }
    s.st.borrow_mut().dial().connect_ev = Some(ev);
    s.set(Bits::CONNECTING, true);
    apply(base, s);
    if at_once {
        s.deferred.push(Later::Activate(ev, Flags::WRITE)); // reported from the loop
    }
    Ok(())
}

/// A non-blocking connect that goes on (`EINPROGRESS`; `WSAEWOULDBLOCK` on Windows).
fn in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    e.kind() == ErrorKind::WouldBlock
}

/// The connect event fired: writable (how did it go?) or the write timeout.
fn finish(base: &mut EventBase, bev: &BufferEvent, fired: Flags) {
    let s = &bev.0;
    let connect_ev = s.st.borrow_mut().dial().connect_ev.take();
    if let Some(ev) = connect_ev {
        let _ = base.free(ev);
    }
    if fired.contains(Flags::TIMEOUT) && !fired.contains(Flags::WRITE) {
        s.set(Bits::CONNECTING, false);
        s.set(Bits::DIAL_SPENT, true);
        s.set(Bits::WRITE, false);
        apply(base, s);
        event_cb(base, bev, What::WRITING | What::TIMEOUT);
        return;
    }
    let failed = std::mem::take(&mut s.st.borrow_mut().dial().failed);
    let outcome = if failed {
        Err(s.st.borrow_mut().error.take().unwrap_or_else(|| ErrorKind::ConnectionRefused.into()))
    } else {
        let Some(sock) = s.socket() else { return };
        match sock.take_error() {
            Ok(Some(e)) | Err(e) => Err(e),
            Ok(None) => sock.peer_addr().map(|_| ()),
        }
    };
    match outcome {
        Ok(()) => {
            s.set(Bits::CONNECTING, false);
            s.st.borrow_mut().dial = None; // connected: nothing of the connect is left
            apply(base, s);
            event_cb(base, bev, What::CONNECTED);
        }
        Err(e) => {
            s.set(Bits::DIAL_SPENT, true);
            let next = s.st.borrow_mut().dial().next_addrs.pop();
            if let Some(addr) = next {
                if retry(base, bev, addr).is_ok() {
                    return;
                }
            }
            fail(base, bev, e);
        }
    }
}

/// Tries the next address on a new socket (a socket whose connect failed is not reused).
fn retry(base: &mut EventBase, bev: &BufferEvent, addr: SocketAddr) -> io::Result<()> {
    let s = &bev.0;
    detach(base, s);
    s.set(Bits::CONNECTING, false);
    start(base, bev, addr)
}

/// Resolves `host` on a thread, then connects to its addresses in turn.
pub(crate) fn hostname(base: &mut EventBase, bev: &BufferEvent, host: &str, port: u16) -> io::Result<()> {
    let s = &bev.0;
    let answer: Arc<Mutex<Option<io::Result<Vec<SocketAddr>>>>> = Arc::default();
    let (slot, me) = (answer.clone(), bev.clone());
    let ev = base.new_timer(Flags::NONE, move |base, ev, _| {
        let _ = base.free(ev);
        let got = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        if me.is_freed() {
            return;
        }
        me.0.st.borrow_mut().dial().resolve_ev = None;
        resolved(base, &me, got);
    })?;
    base.add(ev, Some(RESOLVE_TIMEOUT))?;
    s.st.borrow_mut().dial().resolve_ev = Some(ev);
    s.set(Bits::CONNECTING, true);
    apply(base, s);
    let (handle, host) = (base.handle(), host.to_owned());
    let spawned = std::thread::Builder::new().name("overlap-resolve".into()).spawn(move || {
        let res = (host.as_str(), port).to_socket_addrs().map(|it| it.collect::<Vec<_>>());
        *answer.lock().unwrap_or_else(|p| p.into_inner()) = Some(res);
        let _ = handle.activate(ev, Flags::TIMEOUT);
    });
    if let Err(e) = spawned {
        let _ = base.free(ev);
        s.st.borrow_mut().dial().resolve_ev = None;
        s.set(Bits::CONNECTING, false);
        return Err(e);
    }
    Ok(())
}

/// The resolver answered (or did not in time).
fn resolved(base: &mut EventBase, bev: &BufferEvent, got: Option<io::Result<Vec<SocketAddr>>>) {
    let s = &bev.0;
    s.set(Bits::CONNECTING, false);
    let addrs = match got {
        Some(Ok(addrs)) if !addrs.is_empty() => addrs,
        Some(Ok(_)) => fail(base, bev, crate::error::no_address()),
        Some(Err(e)) => fail(base, bev, e),
        None => fail(base, bev, crate::error::resolve_timeout()),
    };
    if addrs.is_empty() {
        return;
    }
    let mut rest: Vec<SocketAddr> = addrs[1..].to_vec();
    rest.reverse(); // popped from the end: in the resolver's order
    s.st.borrow_mut().dial().next_addrs = rest;
    if let Err(e) = start(base, bev, addrs[0]) {
        fail(base, bev, e);
    }
}

/// Reports a failed connect (ERROR), returning no addresses.
fn fail(base: &mut EventBase, bev: &BufferEvent, e: io::Error) -> Vec<SocketAddr> {
    let s = &bev.0;
    s.set(Bits::CONNECTING, false);
    {
        let mut st = s.st.borrow_mut();
        st.error = Some(e);
        st.dial = None; // its events were freed already (they are what reported this)
    }
    apply(base, s);
    event_cb(base, bev, What::ERROR);
    Vec::new()
}

//! The public calls of [`Listener`]: bind, adopt a socket, enable, disable, callbacks,
//! address, free.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::accept;
use super::ops;
use super::options::ListenerOptions;
use super::shared::{Listener, Shared};
use crate::base::EventBase;
use crate::bufferevent::fd_of;
use crate::deferred::Later;
use crate::engine::Engine;
use crate::flags::Flags;
use crate::id::Fd;

impl Listener {
    /// Binds a TCP socket to `addr`, listens, and accepts on `base`, calling `cb` with each
    /// connection (libevent's `evconnlistener_new_bind`). Port 0 picks a free port
    /// ([`local_addr`](Listener::local_addr) tells which). A port in use fails with
    /// `AddrInUse` unless `opts` asks to share it.
    pub fn bind<F>(base: &mut EventBase, addr: SocketAddr, opts: ListenerOptions, cb: F) -> io::Result<Listener>
    where
        F: FnMut(&mut EventBase, &Listener, Socket, SocketAddr) + 'static,
    {
        let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        opts.apply(&sock)?;
        sock.bind(&SockAddr::from(addr))?;
        sock.listen(opts.backlog())?;
        Listener::from_socket(base, sock, opts, cb)
    }

    /// Accepts on a socket that is bound and listening already (`evconnlistener_new`).
    pub fn from_socket<S, F>(base: &mut EventBase, sock: S, opts: ListenerOptions, cb: F) -> io::Result<Listener>
    where
        S: Into<Socket>,
        F: FnMut(&mut EventBase, &Listener, Socket, SocketAddr) + 'static,
    {
        let sock: Socket = sock.into();
        sock.set_nonblocking(true)?;
        let fd = fd_of(&sock);
        let shared = Rc::new(Shared {
            base: base.id,
            sock: RefCell::new(Some(Rc::new(sock))),
            accept_ev: Cell::new(None),
            backoff_ev: Cell::new(None),
            enabled: Cell::new(false),
            backoff: Cell::new(None),
            last_backoff: Cell::new(None),
            freed: Cell::new(false),
            accept_cb: RefCell::new(Some(Box::new(cb))),
            error_cb: RefCell::new(None),
            generation: Cell::new([0; 2]),
            deferred: base.deferred.clone(),
            ops: RefCell::new(None),
        });
        // The events hold the listener: the base keeps it until it is freed.
        let l = Listener(shared.clone());
        // Accepts on the port (the event runs when they complete) if the engine is completion
        // and the socket can join the port: on Windows a socket joins one IOCP only, so one
        // shared by bases on several threads accepts on readiness in all but the first.
        let accept_ev = if base.engine() == Engine::Completion && ops::attach(base, &l, fd).is_ok() {
            base.new_timer(Flags::NONE, move |base, _, _| {
                if !l.is_freed() {
                    accept::on_completions(base, &l);
                }
            })?
        } else {
            base.new_event(fd, Flags::READ | Flags::PERSIST, move |base, _, _| {
                if !l.is_freed() {
                    accept::on_readable(base, &l);
                }
            })?
        };
        shared.accept_ev.set(Some(accept_ev));
        let l = Listener(shared.clone());
        let backoff_ev = base.new_timer(Flags::NONE, move |base, _, _| {
            if !l.is_freed() {
                accept::backoff_over(base, &l);
            }
        })?;
        shared.backoff_ev.set(Some(backoff_ev));
        let listener = Listener(shared);
        if !opts.disabled {
            listener.enable(base)?;
        }
        Ok(listener)
    }

    /// Starts (or resumes) accepting.
    pub fn enable(&self, base: &mut EventBase) -> io::Result<()> {
        self.check(base)?;
        self.0.enabled.set(true);
        accept::apply(base, self)
    }

    /// Stops accepting; connections wait in the kernel's backlog.
    pub fn disable(&self, base: &mut EventBase) -> io::Result<()> {
        self.check(base)?;
        self.0.enabled.set(false);
        accept::apply(base, self)
    }

    /// Whether it accepts (enabled; it may be backing off for want of descriptors).
    pub fn is_enabled(&self) -> bool {
        self.0.enabled.get()
    }

    /// Sets the accept callback, replacing the one before.
    pub fn on_accept<F>(&self, cb: F)
    where
        F: FnMut(&mut EventBase, &Listener, Socket, SocketAddr) + 'static,
    {
        if self.is_freed() {
            return; // a freed listener runs nothing (and keeps nothing alive)
        }
        *self.0.accept_cb.borrow_mut() = Some(Box::new(cb));
        self.bump(0);
    }

    /// Sets the error callback: an accept failed (for want of descriptors: once per back-off).
    pub fn on_error<F>(&self, cb: F)
    where
        F: FnMut(&mut EventBase, &Listener, io::Error) + 'static,
    {
        if self.is_freed() {
            return;
        }
        *self.0.error_cb.borrow_mut() = Some(Box::new(cb));
        self.bump(1);
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let sock = self.0.sock.borrow().clone().ok_or_else(crate::error::listener_freed)?;
        sock.local_addr()?.as_socket().ok_or_else(crate::error::not_inet)
    }

    /// The listening socket's descriptor.
    pub fn fd(&self) -> Option<Fd> {
        self.0.sock.borrow().as_ref().map(|s| fd_of(s))
    }

    /// Frees it: its events go and its socket is closed. Allowed from its own callbacks.
    pub fn free(&self, base: &mut EventBase) -> io::Result<()> {
        self.check(base)?;
        self.0.freed.set(true);
        // Accepts in flight are waited for here: their duplicate of the socket closes with
        // them (and a connection one took is closed).
        drop(ops::cancel_all(base, self, true));
        drop(self.0.ops.borrow_mut().take()); // the port's duplicate of the socket
        for ev in [self.0.accept_ev.take(), self.0.backoff_ev.take()].into_iter().flatten() {
            let _ = base.free(ev);
        }
        let cbs = (self.0.accept_cb.borrow_mut().take(), self.0.error_cb.borrow_mut().take());
        self.0.deferred.push(Later::Release(Box::new(cbs))); // one of them may be running
        drop(self.0.sock.borrow_mut().take());
        Ok(())
    }

    /// Whether it was freed.
    pub fn is_freed(&self) -> bool {
        self.0.freed.get()
    }

    fn bump(&self, which: usize) {
        let mut g = self.0.generation.get();
        g[which] += 1;
        self.0.generation.set(g);
    }

    fn check(&self, base: &EventBase) -> io::Result<()> {
        if self.0.freed.get() {
            return Err(crate::error::listener_freed());
        }
        if self.0.base != base.id {
            return Err(crate::error::foreign_event());
        }
        Ok(())
    }
}

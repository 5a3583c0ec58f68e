//! The reactor's registration table: which source holds which token.
//!
//! The kernels do not check what the users need checked (epoll allows one token on
//! many fds; poll(2) has no state at all), so every reactor keeps a table, consulted under one
//! lock for `register`, `reregister` and `deregister` (never by `poll`).
//!
//! **Sources closed while registered.** The table records each source's identity (`st_dev`,
//! `st_ino`) at registration. When a later registration collides with an entry, by token or by
//! descriptor number, the entry's descriptor is looked at again: if it is closed, or now names
//! another file, the entry is stale and is evicted, so the common "drop the socket without
//! deregistering, reuse its token and fd number" pattern works. If the identity is unchanged
//! the backend decides: epoll asks the kernel (exact), poll and kqueue say `AlreadyExists`.
//! `deregister` checks the identity too (a reused number is `NotFound`); `reregister`, the hot
//! path of oneshot re-arming, does not: on poll it would re-arm whatever file has the number.
//! Files without their own inode (eventfd, timerfd, …) share one identity, so for those a
//! closed-and-reused descriptor on poll/kqueue reads as still registered: deregister it first.

use crate::int_map::IntMap;
use std::io::{self, ErrorKind};

use crate::contract::interest::{Interest, Trigger};
use crate::contract::source::RawSource;
use crate::contract::token::Token;
use crate::error;
use crate::sys::selector::AnySelector;
use crate::sys::{file_id, FileId};

#[derive(Debug)]
struct Entry {
    token: Token,
    id: FileId,
}

/// Token ↔ source bookkeeping for one reactor.
#[derive(Debug, Default)]
pub(crate) struct Table {
    by_fd: IntMap<RawSource, Entry>,
    by_token: IntMap<Token, RawSource>,
    waker: Option<Token>,
}

fn check(token: Token, interest: Interest) -> io::Result<()> {
    if token == Token::RESERVED {
        return Err(error::reserved_token());
    }
    if interest.is_empty() {
        return Err(error::empty_interest());
    }
    Ok(())
}

impl Table {
    pub(crate) fn register(
        &mut self,
        sel: &AnySelector,
        fd: RawSource,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        check(token, interest)?;
        let id = file_id(fd).map_err(|_| error::not_open(fd))?;
        self.claim_token(sel, token, Some(fd))?;
        match self.by_fd.get(&fd) {
            Some(old) if old.id == id => {
                // Same file: only the backend knows whether the kernel still watches it.
                sel.register(fd, token, interest, trigger).map_err(|e| match e.kind() {
                    ErrorKind::AlreadyExists => error::fd_in_use(fd),
                    _ => e,
                })?;
                self.forget(fd);
            }
            Some(_) => {
                self.evict(sel, fd);
                sel.register(fd, token, interest, trigger)?;
            }
            None => sel.register(fd, token, interest, trigger)?,
        }
        self.by_fd.insert(fd, Entry { token, id });
        self.by_token.insert(token, fd);
        Ok(())
    }

    pub(crate) fn reregister(
        &mut self,
        sel: &AnySelector,
        fd: RawSource,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> io::Result<()> {
        check(token, interest)?;
        let old_token = self.by_fd.get(&fd).ok_or_else(|| error::not_registered(fd))?.token;
        if old_token != token {
            self.claim_token(sel, token, Some(fd))?;
        }
        match sel.reregister(fd, token, interest, trigger) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                // The kernel dropped it: the source was closed, and the number reused.
                self.forget(fd);
                Err(error::not_registered(fd))
            }
            Err(e) => Err(e),
            Ok(()) => {
                self.by_token.remove(&old_token);
                self.by_token.insert(token, fd);
                if let Some(e) = self.by_fd.get_mut(&fd) {
                    e.token = token;
                }
                Ok(())
            }
        }
    }

    pub(crate) fn deregister(&mut self, sel: &AnySelector, fd: RawSource) -> io::Result<()> {
        let entry = self.forget(fd).ok_or_else(|| error::not_registered(fd))?;
        if file_id(fd).ok() != Some(entry.id) {
            // The registered file was closed and the number reused by this unregistered one.
            let _ = sel.deregister(fd);
            return Err(error::not_registered(fd));
        }
        match sel.deregister(fd) {
            Err(e) if e.kind() == ErrorKind::NotFound => Err(error::not_registered(fd)),
            other => other,
        }
    }

    /// Reserves `token` for the waker.
    pub(crate) fn add_waker(&mut self, sel: &AnySelector, token: Token) -> io::Result<()> {
        if token == Token::RESERVED {
            return Err(error::reserved_token());
        }
        if self.waker.is_some() {
            return Err(error::waker_exists());
        }
        self.claim_token(sel, token, None)?;
        self.waker = Some(token);
        Ok(())
    }

    pub(crate) fn remove_waker(&mut self) {
        self.waker = None;
    }

    /// Makes sure `token` is free for `fd` (or for the waker when `fd` is `None`): a live
    /// holder is an error, a stale one is evicted.
    fn claim_token(&mut self, sel: &AnySelector, token: Token, fd: Option<RawSource>) -> io::Result<()> {
        if self.waker == Some(token) {
            return Err(error::token_in_use(token));
        }
        let Some(&holder) = self.by_token.get(&token) else { return Ok(()) };
        if Some(holder) == fd {
            return Ok(());
        }
        let live = self.by_fd.get(&holder).is_some_and(|e| file_id(holder).ok() == Some(e.id));
        if live {
            return Err(error::token_in_use(token));
        }
        self.evict(sel, holder);
        Ok(())
    }

    /// Drops a stale entry, telling the backend to forget the number too (errors are
    /// expected: the kernel usually dropped it when the file closed).
    fn evict(&mut self, sel: &AnySelector, fd: RawSource) {
        let _ = sel.deregister(fd);
        self.forget(fd);
    }

    fn forget(&mut self, fd: RawSource) -> Option<Entry> {
        let entry = self.by_fd.remove(&fd)?;
        if self.by_token.get(&entry.token) == Some(&fd) {
            self.by_token.remove(&entry.token);
        }
        Some(entry)
    }
}

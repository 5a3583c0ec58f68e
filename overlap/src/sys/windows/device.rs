//! `\Device\Afd` and `IOCTL_AFD_POLL`: the kernel's own socket readiness request, which the
//! `select` of Winsock is built on. One AFD handle can carry any number of polls; each poll
//! names one socket (its base handle) and the events to wait for, and completes, through the
//! completion port the AFD handle is associated with, when one of them holds (at once if one
//! already does). A poll is cancelled with `NtCancelIoFileEx` (it then completes with
//! `STATUS_CANCELLED`).
//!
//! The layouts are those of the Windows driver interface (wepoll and mio document them).
#![allow(unsafe_code)]

use std::io;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::ptr;

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Storage::FileSystem::{NtCancelIoFileEx, NtCreateFile, FILE_OPEN};
use windows_sys::Wdk::System::IO::NtDeviceIoControlFile;
use windows_sys::Win32::Foundation::{
    RtlNtStatusToDosError, HANDLE, NTSTATUS, STATUS_NOT_FOUND, STATUS_PENDING, UNICODE_STRING,
};
use windows_sys::Win32::Storage::FileSystem::{FILE_SHARE_READ, FILE_SHARE_WRITE, SYNCHRONIZE};
use windows_sys::Win32::System::IO::IO_STATUS_BLOCK;

use super::cport::Cport;
use crate::contract::interest::Interest;
use crate::contract::ready::flags;

const IOCTL_AFD_POLL: u32 = 0x0001_2024;

/// Data (or a connection to accept, on a listener… see `ACCEPT`) can be received.
pub(super) const RECEIVE: u32 = 0x0001;
/// Out-of-band data can be received.
pub(super) const RECEIVE_EXPEDITED: u32 = 0x0002;
/// Data can be sent.
pub(super) const SEND: u32 = 0x0004;
/// The peer shut down its side (FIN).
pub(super) const DISCONNECT: u32 = 0x0008;
/// The connection was reset or aborted.
pub(super) const ABORT: u32 = 0x0010;
/// The socket was closed locally (the poll's socket is gone).
pub(super) const LOCAL_CLOSE: u32 = 0x0020;
/// A listener has a connection to accept.
pub(super) const ACCEPT: u32 = 0x0080;
/// A connect failed.
pub(super) const CONNECT_FAIL: u32 = 0x0100;

/// One socket of a poll request.
#[repr(C)]
#[derive(Debug)]
pub(super) struct PollHandle {
    pub(super) handle: HANDLE,
    pub(super) events: u32,
    pub(super) status: NTSTATUS,
}

/// A poll request, also where the kernel writes its answer.
#[repr(C)]
#[derive(Debug)]
pub(super) struct PollInfo {
    pub(super) timeout: i64,
    pub(super) number_of_handles: u32,
    pub(super) exclusive: u32,
    pub(super) handles: [PollHandle; 1],
}

// SAFETY: the handle is a plain value naming a kernel object; nothing is borrowed through it.
unsafe impl Send for PollInfo {}

impl PollInfo {
    /// A request for `events` on the socket whose base handle is `base`.
    pub(super) fn new(base: HANDLE, events: u32) -> PollInfo {
        PollInfo {
            timeout: i64::MAX,
            number_of_handles: 1,
            exclusive: 0,
            handles: [PollHandle { handle: base, events, status: 0 }],
        }
    }

    /// What the kernel reported (0 if it reported no socket).
    pub(super) fn reported(&self) -> u32 {
        if self.number_of_handles == 0 {
            0
        } else {
            self.handles[0].events
        }
    }
}

/// The AFD events that answer `interest`, plus those every poll waits for (a reset, a failed
/// connect, the socket's own close).
pub(super) fn events_for(interest: Interest) -> u32 {
    let mut ev = ABORT | CONNECT_FAIL | LOCAL_CLOSE;
    if interest.is_readable() {
        ev |= RECEIVE | ACCEPT | DISCONNECT;
    }
    if interest.is_read_closed() {
        ev |= DISCONNECT; // alone: data arriving does not wake it (aborts are always asked)
    }
    if interest.is_writable() {
        ev |= SEND;
    }
    if interest.is_priority() {
        ev |= RECEIVE_EXPEDITED;
    }
    ev
}

/// The event flags (`crate::event::flags`) for what AFD reported, as epoll would give them
/// to a registration for `interest`: readable and writable only where asked for, errors and
/// closes always.
pub(super) fn event_flags(ev: u32, interest: Interest) -> u8 {
    let mut f = 0;
    if ev & (RECEIVE | ACCEPT | DISCONNECT | ABORT | CONNECT_FAIL) != 0 {
        f |= flags::READABLE;
    }
    if ev & (SEND | CONNECT_FAIL | ABORT) != 0 {
        f |= flags::WRITABLE;
    }
    if ev & RECEIVE_EXPEDITED != 0 {
        f |= flags::PRIORITY;
    }
    if ev & (CONNECT_FAIL | ABORT) != 0 {
        f |= flags::ERROR | flags::WRITE_CLOSED;
    }
    if ev & (DISCONNECT | ABORT | CONNECT_FAIL) != 0 {
        f |= flags::READ_CLOSED;
    }
    let mut keep = flags::ERROR | flags::READ_CLOSED | flags::WRITE_CLOSED;
    if interest.is_readable() {
        keep |= flags::READABLE;
    }
    if interest.is_writable() {
        keep |= flags::WRITABLE;
    }
    if interest.is_priority() {
        keep |= flags::PRIORITY;
    }
    f & keep
}

/// An NTSTATUS failure as the matching Windows error.
pub(super) fn status_error(status: NTSTATUS) -> io::Error {
    // SAFETY: a pure table lookup.
    io::Error::from_raw_os_error(unsafe { RtlNtStatusToDosError(status) } as i32)
}

/// An open `\Device\Afd` handle, associated with a completion port.
#[derive(Debug)]
pub(super) struct Afd {
    handle: OwnedHandle,
}

impl Afd {
    /// Opens a handle to the AFD driver whose completions go to `port` under `key`.
    pub(super) fn open(port: &Cport, key: usize) -> io::Result<Afd> {
        let name: Vec<u16> = "\\Device\\Afd\\Overlap".encode_utf16().collect();
        let name = UNICODE_STRING {
            Length: (name.len() * 2) as u16,
            MaximumLength: (name.len() * 2) as u16,
            Buffer: name.as_ptr() as *mut u16,
        };
        let attrs = OBJECT_ATTRIBUTES {
            Length: std::mem::size_of::<OBJECT_ATTRIBUTES>() as u32,
            RootDirectory: ptr::null_mut(),
            ObjectName: &name,
            Attributes: 0,
            SecurityDescriptor: ptr::null(),
            SecurityQualityOfService: ptr::null(),
        };
        let mut h: HANDLE = ptr::null_mut();
        let mut iosb = IO_STATUS_BLOCK::default();
        // SAFETY: every pointer is to a live local; the name buffer outlives the call.
        let status = unsafe {
            NtCreateFile(
                &mut h,
                SYNCHRONIZE,
                &attrs,
                &mut iosb,
                ptr::null(),
                0,
                FILE_SHARE_READ | FILE_SHARE_WRITE,
                FILE_OPEN,
                0,
                ptr::null(),
                0,
            )
        };
        if status < 0 {
            return Err(status_error(status));
        }
        // SAFETY: a new handle that nothing else owns.
        let afd = Afd { handle: unsafe { OwnedHandle::from_raw_handle(h) } };
        port.associate(afd.raw_handle(), key)?;
        Ok(afd)
    }

    /// The handle, to name it in `CancelIoEx`.
    pub(super) fn raw_handle(&self) -> HANDLE {
        self.handle.as_raw_handle()
    }

    /// Starts a poll; its completion packet carries `context` as its `OVERLAPPED` pointer.
    /// `Ok` when the poll is in the kernel (it completes through the port, also when it
    /// finished at once); the error when it failed without starting.
    ///
    /// # Safety
    ///
    /// `info` and `iosb` must stay valid and untouched (but for reading the status) until the
    /// poll's completion packet is dequeued.
    pub(super) unsafe fn poll(
        &self,
        info: *mut PollInfo,
        iosb: *mut IO_STATUS_BLOCK,
        context: *mut core::ffi::c_void,
    ) -> io::Result<()> {
        let size = std::mem::size_of::<PollInfo>() as u32;
        // SAFETY: the caller keeps `iosb` valid until the packet arrives.
        unsafe { (*iosb).Anonymous.Status = STATUS_PENDING };
        // SAFETY: the caller keeps `info` (input and output) and `iosb` valid until the
        // packet arrives; no event and no APC routine, so completion only queues the packet.
        let status = unsafe {
            NtDeviceIoControlFile(
                self.raw_handle(),
                ptr::null_mut(),
                None,
                context,
                iosb,
                IOCTL_AFD_POLL,
                info.cast(),
                size,
                info.cast(),
                size,
            )
        };
        if status < 0 {
            return Err(status_error(status));
        }
        Ok(())
    }

    /// Cancels the poll whose status block is `iosb`; nothing if it already completed.
    ///
    /// # Safety
    ///
    /// `iosb` must be the status block of a poll started on this handle.
    pub(super) unsafe fn cancel(&self, iosb: *mut IO_STATUS_BLOCK) -> io::Result<()> {
        let mut cancel_iosb = IO_STATUS_BLOCK::default();
        // SAFETY: `iosb` only identifies the request; `cancel_iosb` is a live local.
        let status = unsafe { NtCancelIoFileEx(self.raw_handle(), iosb, &mut cancel_iosb) };
        if status < 0 && status != STATUS_NOT_FOUND {
            return Err(status_error(status));
        }
        Ok(())
    }
}

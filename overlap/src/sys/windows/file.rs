//! File handles: whether one was opened for overlapped I/O.
#![allow(unsafe_code)]

use std::io;

use windows_sys::Wdk::Storage::FileSystem::{
    FileModeInformation, NtQueryInformationFile, FILE_SYNCHRONOUS_IO_ALERT, FILE_SYNCHRONOUS_IO_NONALERT,
};
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::System::IO::IO_STATUS_BLOCK;

use super::device::status_error;

/// Whether `h` was opened for synchronous I/O (without `FILE_FLAG_OVERLAPPED`): every call on
/// it blocks the calling thread until done, whatever the `OVERLAPPED` says.
pub(super) fn is_synchronous(h: HANDLE) -> io::Result<bool> {
    let mut mode = 0u32;
    let mut iosb = IO_STATUS_BLOCK::default();
    // SAFETY: writes one u32 and the status block, both live locals.
    let status =
        unsafe { NtQueryInformationFile(h, &mut iosb, (&mut mode as *mut u32).cast(), 4, FileModeInformation) };
    if status < 0 {
        return Err(status_error(status));
    }
    Ok(mode & (FILE_SYNCHRONOUS_IO_ALERT | FILE_SYNCHRONOUS_IO_NONALERT) != 0)
}

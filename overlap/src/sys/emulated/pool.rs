//! A small thread pool for the I/O epoll cannot wait for: regular files.
//!
//! Up to `MAX_THREADS` threads start on demand and stay while the port lives; each runs one
//! op at a time as a plain (blocking) system call and pushes its completion. Dropping the port
//! closes the job channel; the threads finish what they run and exit (nobody waits for them,
//! so a slow disk cannot hang a drop).

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use crate::contract::completion::Pending;
use crate::contract::queue::Queue;
use crate::sys::selector::AnySelector;
use crate::sys::unix::ops;

const MAX_THREADS: usize = 4;

pub(crate) struct Pool {
    tx: Mutex<Option<Sender<Pending>>>,
    rx: Arc<Mutex<Receiver<Pending>>>,
    threads: Mutex<usize>,
    queue: Arc<Queue>,
    sel: Arc<AnySelector>,
}

impl Pool {
    pub(crate) fn new(queue: Arc<Queue>, sel: Arc<AnySelector>) -> Pool {
        let (tx, rx) = channel();
        Pool { tx: Mutex::new(Some(tx)), rx: Arc::new(Mutex::new(rx)), threads: Mutex::new(0), queue, sel }
    }

    /// Runs `p` on a pool thread; its completion goes to the port's queue.
    pub(crate) fn run(&self, p: Pending) {
        let have_worker = {
            let mut n = self.threads.lock().unwrap_or_else(|e| e.into_inner());
            if *n < MAX_THREADS {
                let (rx, queue, sel) = (self.rx.clone(), self.queue.clone(), self.sel.clone());
                let spawned =
                    std::thread::Builder::new().name("overlap-file-io".into()).spawn(move || worker(&rx, &queue, &sel));
                if spawned.is_ok() {
                    *n += 1;
                }
            }
            *n > 0
        };
        let unsent = match self.tx.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some(tx) if have_worker => tx.send(p).err().map(|e| e.0),
            _ => Some(p),
        };
        if let Some(mut p) = unsent {
            // No worker could be had (the system refused a thread): run it here, blocking.
            let res = ops::attempt(&mut p).res;
            if self.queue.push([p.complete(res)]) {
                let _ = self.sel.notify();
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

fn worker(rx: &Mutex<Receiver<Pending>>, queue: &Queue, sel: &AnySelector) {
    loop {
        let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(mut p) = job else { return };
        let res = ops::attempt(&mut p).res;
        if queue.push([p.complete(res)]) {
            let _ = sel.notify();
        }
    }
}

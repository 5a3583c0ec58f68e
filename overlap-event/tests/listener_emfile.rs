//! A listener out of descriptors backs off instead of spinning, and recovers when
//! descriptors free up. Its own test binary, one case at a time: it lowers the process's
//! descriptor limit (`RLIMIT_NOFILE`), which no other test may share.

mod util;

#[cfg(target_os = "linux")]
use util::*;

#[cfg(target_os = "linux")]
fn emfile_backoff(b: overlap_event::Method) {
    use std::net::TcpStream;
    use std::rc::Rc;
    use std::time::Duration;

    use overlap_event::{Listener, ListenerOptions};
    use rustix::process::{getrlimit, setrlimit, Resource};

    let mut base = base(b);
    let (accepted, errors) = (counter(), counter());
    let a = accepted.clone();
    let listener =
        Listener::bind(&mut base, "127.0.0.1:0".parse().unwrap(), ListenerOptions::new(), move |base, l, sock, _| {
            drop(sock);
            a.set(a.get() + 1);
            if a.get() == 3 {
                l.free(base).unwrap();
            }
        })
        .unwrap();
    let addr = listener.local_addr().unwrap();
    // Three connections wait in the backlog; spare descriptors are freed once the listener
    // has said it is out of them.
    let clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let spare: Rc<std::cell::RefCell<Vec<std::fs::File>>> = Rc::default();
    let (e, sp) = (errors.clone(), spare.clone());
    listener.on_error(move |base, _, err| {
        assert!(err.raw_os_error() == Some(libc::EMFILE), "{err:?}");
        e.set(e.get() + 1);
        if e.get() == 1 {
            let sp = sp.clone();
            base.once(None, overlap_event::Flags::TIMEOUT, Some(Duration::from_millis(60)), move |_, _| {
                sp.borrow_mut().clear();
            })
            .unwrap();
        }
    });
    // The limit bounds descriptor numbers: put it just above the highest in use, then fill
    // the holes below with spare descriptors, so that no new one fits.
    let highest = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap();
    let old = getrlimit(Resource::Nofile);
    setrlimit(Resource::Nofile, rustix::process::Rlimit { current: Some(highest + 1), maximum: old.maximum }).unwrap();
    loop {
        match std::fs::File::open("/dev/null") {
            Ok(f) => spare.borrow_mut().push(f),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
            Err(e) => panic!("{e}"),
        }
    }
    let end = base.dispatch();
    setrlimit(Resource::Nofile, old).unwrap();
    end.unwrap();
    drop(clients);
    assert_eq!(accepted.get(), 3, "it recovered once descriptors were free");
    assert!(errors.get() >= 1, "the error callback heard of EMFILE");
    assert!(errors.get() <= 10, "{} errors in about 60 ms: a busy loop, not a back-off", errors.get());
    assert!(spare.borrow().is_empty());
}

fn main() {
    #[cfg(target_os = "linux")]
    run_suite_with("listener_emfile", cases![emfile_backoff], true);
    #[cfg(not(target_os = "linux"))]
    println!("listener_emfile: no case here (it lowers RLIMIT_NOFILE and reads /proc/self/fd: Linux only)");
}

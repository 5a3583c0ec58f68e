//! Names the platform predicates once, so the code says `cfg(epoll)` and never repeats OS lists.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let family = std::env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    let is = |names: &[&str]| names.contains(&os.as_str());

    let aliases: [(&str, bool); 9] = [
        // epoll(7): the native readiness backend.
        ("epoll", is(&["linux", "android"])),
        // kqueue(2): the native readiness backend on the BSDs and Apple systems.
        ("kqueue", is(&["macos", "ios", "tvos", "watchos", "visionos", "freebsd", "netbsd", "openbsd", "dragonfly"])),
        // poll(2): the portable fallback, on every Unix.
        ("poll_backend", family == "unix"),
        // eventfd(2) for wake-ups (else a pipe).
        ("eventfd", is(&["linux", "android"])),
        // POLLRDHUP: poll(2) reports a peer's half-close.
        ("pollrdhup", is(&["linux", "android"])),
        // NetBSD's `struct kevent` uses wider filter/flag fields and a `size_t` count.
        ("netbsd_kevent", is(&["netbsd"])),
        // accept4(2): accept with SOCK_NONBLOCK | SOCK_CLOEXEC in one call (else accept + fcntl).
        ("accept4", is(&["linux", "android", "freebsd", "netbsd", "openbsd", "dragonfly"])),
        // MSG_NOSIGNAL: a send to a closed peer fails with EPIPE instead of raising SIGPIPE.
        ("msg_nosignal", is(&["linux", "android", "freebsd", "netbsd", "openbsd", "dragonfly"])),
        // io_uring(7): the native completion backend (probed at run time: the kernel may refuse it).
        ("uring", is(&["linux"])),
    ];
    for (name, on) in aliases {
        println!("cargo::rustc-check-cfg=cfg({name})");
        if on {
            println!("cargo::rustc-cfg={name}");
        }
    }
    println!("cargo::rerun-if-changed=build.rs");
}

//! Names the platform predicates of the `overlap` command once, so the code says `cfg(epoll)` and
//! never repeats OS lists (the same names, with the same meaning, as `overlap/build.rs`).

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let family = std::env::var("CARGO_CFG_TARGET_FAMILY").unwrap_or_default();
    let is = |names: &[&str]| names.contains(&os.as_str());

    let aliases: [(&str, bool); 3] = [
        // epoll(7), eventfd(2) and sched_setaffinity(2): the raw epoll floor of `overlap bench`
        // and the pinning of its threads to CPUs.
        ("epoll", is(&["linux", "android"])),
        // io_uring(7): the raw io_uring floor and the compio peer of `overlap bench` (their
        // crates are Linux-only dependencies in Cargo.toml: keep the two in step).
        ("uring", is(&["linux"])),
        // SO_REUSEPORT (as socket2 offers it): listeners sharing a port, for the per-thread
        // listeners of the readiness echo server and `echo-server --reuse-port`.
        ("reuseport", family == "unix" && !is(&["solaris", "illumos", "cygwin", "nuttx"])),
    ];
    for (name, on) in aliases {
        println!("cargo::rustc-check-cfg=cfg({name})");
        if on {
            println!("cargo::rustc-cfg={name}");
        }
    }
    println!("cargo::rerun-if-changed=build.rs");
}

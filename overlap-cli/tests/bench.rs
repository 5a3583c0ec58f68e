//! `overlap bench` as a process: a smoke run of every workload on every path available here,
//! checking what it reports (never how fast: timing belongs to the benchmark itself).

use std::process::Command;

#[test]
fn quick_bench_reports_every_path_and_writes_json_and_svg() {
    let dir = std::env::temp_dir();
    let json = dir.join(format!("overlap-bench-{}.json", std::process::id()));
    let svg = dir.join(format!("overlap-bench-{}.svg", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_overlap"))
        .args(["bench", "--quick", "--secs", "0.25", "--conns", "2,4", "--size", "16"])
        .arg("--json")
        .arg(&json)
        .arg("--svg")
        .arg(&svg)
        .output()
        .expect("run overlap bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {}: {stdout}\n{stderr}", out.status);
    assert!(stdout.starts_with("machine: "), "{stdout}");
    // The machine line names every backend: as available, or as not here with a reason.
    let machine = stdout.lines().next().unwrap_or_default();
    let listed = |model: &str, name: &str| {
        let part = machine.split(';').map(str::trim).find(|p| p.starts_with(model));
        part.is_some_and(|p| p.split_whitespace().skip(1).any(|w| w == name))
    };
    let not_here = |name: &str| {
        machine.split([';', ',']).any(|p| p.trim().trim_start_matches("not here: ").starts_with(&format!("{name} (")))
    };
    for b in overlap::ReactorBackend::ALL {
        assert!(listed("readiness:", b.name()) || not_here(b.name()), "{b} in {machine}");
    }
    for b in [overlap::PortBackend::Iocp, overlap::PortBackend::Uring] {
        assert!(listed("completion:", b.name()) || not_here(b.name()), "{} in {machine}", b.name());
    }
    assert!(!stdout.contains("failed:"), "every cell ran: {stdout}");
    let mut paths: Vec<String> = overlap::ReactorBackend::available().iter().map(|b| format!("reactor/{b}")).collect();
    paths.extend(overlap::PortBackend::available().iter().map(|b| format!("port/{b}")));
    if cfg!(epoll) {
        paths.push("raw-epoll".into());
    }
    // The raw io_uring floor is an echo server only: echo and accept rows, no wake-ups.
    let uring_floor = cfg!(uring) && overlap::PortBackend::Uring.check().is_ok();
    // The in-process peers of a `--features peers` build (compio where io_uring works).
    let mut peers: Vec<String> = Vec::new();
    if cfg!(feature = "peers") {
        peers.extend(["tokio".into(), "mio".into()]);
        if uring_floor {
            peers.push("compio".into());
        }
    }
    // The event loop's paths: raw events and buffered events, echo servers without a wake-up
    // pair or an accept row.
    let readiness = overlap::ReactorBackend::available();
    let event_paths: Vec<String> = readiness.iter().map(|b| format!("event/{b}")).collect();
    let bev_paths: Vec<String> = readiness.iter().map(|b| format!("bufferevent/{b}")).collect();
    // Buffered events on the completion engine: a base on each completion port (echo only).
    let bev_port_paths: Vec<String> =
        overlap::PortBackend::available().iter().map(|b| format!("bufferevent-completion/{b}")).collect();
    let echo_paths: Vec<String> = paths
        .iter()
        .cloned()
        .chain(uring_floor.then(|| "raw-uring".to_string()))
        .chain(peers)
        .chain(event_paths.iter().cloned())
        .chain(bev_paths.iter().cloned())
        .chain(bev_port_paths.iter().cloned())
        .collect();
    for p in &echo_paths {
        for setting in ["2 conns × 16 B", "4 conns × 16 B"] {
            let line = stdout
                .lines()
                .find(|l| l.starts_with("echo") && l.contains(setting) && l.split_whitespace().any(|w| w == p))
                .unwrap_or_else(|| panic!("no echo row for {p} at {setting}: {stdout}"));
            assert!(!line.contains(" 0.0 msgs/s"), "the echo moved messages: {line}");
        }
        // Echo servers only, without a wake-up pair: the raw io_uring floor and compio; the event
        // loop's paths neither wake up nor accept in a row of their own.
        let workloads: &[&str] = match p.as_str() {
            "raw-uring" | "compio" => &["accept"],
            p if p.starts_with("event/") || p.starts_with("bufferevent") => &[],
            _ => &["wakeup", "accept"],
        };
        for w in workloads {
            assert!(stdout.lines().any(|l| l.starts_with(w) && l.contains(p.as_str())), "no {w} row for {p}: {stdout}");
        }
    }
    if uring_floor {
        let row = stdout.lines().find(|l| l.starts_with("echo") && l.contains("port/uring")).expect("a port/uring row");
        assert!(row.contains("× raw-uring"), "port/uring is also measured against raw io_uring: {row}");
    }
    // The event loop's paths: raw events in echo, timers, dispatch (Unix) and bulk (on the
    // default backend); buffered events in echo and bulk.
    let default = overlap::ReactorBackend::default();
    for (p, b) in event_paths.iter().zip(&readiness) {
        let mut expected = vec!["echo", "timers"];
        expected.extend(cfg!(unix).then_some("dispatch"));
        expected.extend((*b == default).then_some("bulk"));
        assert_eq!(workloads_of(&stdout, p), expected, "{p}: {stdout}");
        let on = |l: &&str| l.split_whitespace().any(|w| w == p);
        let timers = stdout.lines().filter(on).find(|l| l.starts_with("timers")).unwrap_or_default();
        assert!(timers.contains("cancel ns") && timers.contains("B/timer"), "{timers}");
    }
    for (p, b) in bev_paths.iter().zip(&readiness) {
        let expected = if *b == default { vec!["echo", "bulk"] } else { vec!["echo"] };
        assert_eq!(workloads_of(&stdout, p), expected, "{p}: {stdout}");
    }
    let preferred_port = overlap::PortBackend::available().first().map(|b| format!("bufferevent-completion/{b}"));
    for p in &bev_port_paths {
        let expected = if Some(p) == preferred_port.as_ref() { vec!["echo", "bulk"] } else { vec!["echo"] };
        assert_eq!(workloads_of(&stdout, p), expected, "{p}: {stdout}");
    }
    for p in bulk_paths() {
        bulk_rows(&stdout, &p);
    }
    if cfg!(unix) {
        for p in paths.iter().chain(&event_paths) {
            let row = stdout
                .lines()
                .find(|l| l.starts_with("dispatch") && l.contains("100 pipes, 1 active") && l.contains(p.as_str()));
            assert!(row.is_some_and(|l| l.contains("ns/event")), "no dispatch row for {p}: {stdout}");
        }
    }
    for b in overlap::PortBackend::available() {
        assert!(stdout.lines().any(|l| l.starts_with("timers") && l.contains(&format!("port/{b}"))), "{stdout}");
    }
    let json = std::fs::read_to_string(&json).expect("the JSON file");
    assert!(json.starts_with("{\"machine\":") && json.trim_end().ends_with("]}"), "{json}");
    assert_eq!(json.matches("\"workload\":\"echo\"").count(), 2 * echo_paths.len(), "{json}");
    // Every figure carries its range over the rounds, around the median.
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let rows = parsed["rows"].as_array().expect("rows");
    for fig in rows.iter().flat_map(|r| r["figures"].as_array().expect("figures")) {
        let (min, median, max) = (fig["min"].as_f64(), fig["median"].as_f64(), fig["max"].as_f64());
        assert!(min <= median && median <= max && min.is_some(), "{fig}");
    }
    let svg = std::fs::read_to_string(&svg).expect("the SVG file");
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
    assert!(svg.contains("bar: one round"), "the caption says what a bar is: {svg}");
    assert_eq!(
        svg.matches("<rect x=").count() - echo_paths.len(),
        2 * echo_paths.len(),
        "a bar per echo row, a legend box per path"
    );
}

/// The workloads of the rows of path `p`, in table order, each once.
fn workloads_of<'a>(stdout: &'a str, p: &str) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for l in stdout.lines().filter(|l| l.split_whitespace().any(|w| w == p)) {
        let w = l.split_whitespace().next().unwrap_or_default();
        if out.last() != Some(&w) {
            out.push(w);
        }
    }
    out
}

/// The paths with a bulk sink here: the raw epoll floor, the `Reactor`, the event loop and its
/// buffered events on the default readiness backend, and the completion engine's buffered
/// events on the preferred port.
fn bulk_paths() -> Vec<String> {
    let b = overlap::ReactorBackend::default();
    let mut paths: Vec<String> = cfg!(epoll).then(|| "raw-epoll".to_string()).into_iter().collect();
    paths.extend([format!("reactor/{b}"), format!("event/{b}"), format!("bufferevent/{b}")]);
    paths.extend(overlap::PortBackend::available().first().map(|p| format!("bufferevent-completion/{p}")));
    paths
}

/// Path `p` has a bulk row at each read size, in GiB/s, that moved bytes.
fn bulk_rows(stdout: &str, p: &str) {
    for setting in ["1 conn, 16 KiB reads", "1 conn, 256 KiB reads"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with("bulk") && l.contains(setting) && l.split_whitespace().any(|w| w == p))
            .unwrap_or_else(|| panic!("no bulk row for {p} at {setting}: {stdout}"));
        assert!(line.contains("GiB/s") && !line.contains(" 0.0 GiB/s"), "the stream moved bytes: {line}");
        // The server's CPU time per MiB, from /proc (which every system with epoll has).
        if cfg!(epoll) {
            assert!(line.contains("server µs/MiB"), "{line}");
        }
    }
}

/// The bulk workload alone, with tiny cells: a row per path with a sink, at both read sizes;
/// against the floor where there is one.
#[test]
fn quick_bulk_reports_every_sink_at_both_read_sizes() {
    let json_path = std::env::temp_dir().join(format!("overlap-bench-bulk-{}.json", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_overlap"))
        .args(["bench", "bulk", "--secs", "0.05", "--rounds", "2", "--json"])
        .arg(&json_path)
        .output()
        .expect("run overlap bench bulk");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {}: {stdout}\n{stderr}", out.status);
    assert!(!stdout.contains("failed"), "{stdout}");
    let paths = bulk_paths();
    for p in &paths {
        bulk_rows(&stdout, p);
    }
    let rows = stdout.lines().filter(|l| l.starts_with("bulk")).count();
    assert_eq!(rows, 2 * paths.len(), "no other path streams: {stdout}");
    if cfg!(epoll) {
        let row = stdout.lines().find(|l| l.starts_with("bulk") && l.contains("bufferevent/")).unwrap_or_default();
        assert!(row.contains('×'), "measured against raw epoll: {row}");
    }
    let json = std::fs::read_to_string(&json_path).expect("the JSON file");
    let _ = std::fs::remove_file(&json_path);
    assert_eq!(json.matches("\"workload\":\"bulk\"").count(), 2 * paths.len(), "{json}");
    assert!(json.contains("\"name\":\"GiB/s\""), "{json}");
}

/// Without `--json`/`--svg`, the figures and the chart go beside cargo's build output.
#[test]
fn files_default_to_the_target_dir() {
    let dir = std::env::temp_dir().join(format!("overlap-bench-target-{}", std::process::id()));
    let reactor = format!("reactor/{}", overlap::ReactorBackend::available()[0]);
    let out = Command::new(env!("CARGO_BIN_EXE_overlap"))
        .args(["bench", "echo", "--quick", "--secs", "0.1", "--conns", "1", "--backends", reactor.as_str()])
        .env("CARGO_TARGET_DIR", &dir)
        .output()
        .expect("run overlap bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {}: {stderr}", out.status);
    let json = std::fs::read_to_string(dir.join("overlap-bench").join("bench.json")).expect("the default JSON file");
    assert!(json.contains(&format!("\"path\":\"{reactor}\"")), "{json}");
    let svg = std::fs::read_to_string(dir.join("overlap-bench").join("bench.svg")).expect("the default chart");
    assert!(svg.starts_with("<svg"), "{svg}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_bench_input_is_a_clear_error() {
    // A count out of bounds is a usage error (clap's, naming the flag); a path that is not one is
    // the command's own error.
    for (args, says) in [
        (&["bench", "echo", "--conns", "0"][..], &["error: invalid value '0' for '--conns"][..]),
        (&["bench", "--backends", "no-such-path"][..], &["overlap: ", "no-such-path"][..]),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_overlap")).args(args).output().expect("run overlap bench");
        assert!(!out.status.success(), "{args:?} must fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(says.iter().all(|s| stderr.contains(s)), "{args:?}: {stderr}");
    }
}

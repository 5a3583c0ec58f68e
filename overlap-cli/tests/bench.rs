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
    let echo_paths: Vec<String> =
        paths.iter().cloned().chain(uring_floor.then(|| "raw-uring".to_string())).chain(peers).collect();
    for p in &echo_paths {
        for setting in ["2 conns × 16 B", "4 conns × 16 B"] {
            let line = stdout
                .lines()
                .find(|l| l.starts_with("echo") && l.contains(setting) && l.split_whitespace().any(|w| w == p))
                .unwrap_or_else(|| panic!("no echo row for {p} at {setting}: {stdout}"));
            assert!(!line.contains(" 0.0 msgs/s"), "the echo moved messages: {line}");
        }
        // Echo servers only, without a wake-up pair: the raw io_uring floor and compio.
        let workloads: &[&str] = if p == "raw-uring" || p == "compio" { &["accept"] } else { &["wakeup", "accept"] };
        for w in workloads {
            assert!(stdout.lines().any(|l| l.starts_with(w) && l.contains(p.as_str())), "no {w} row for {p}: {stdout}");
        }
    }
    if uring_floor {
        let row = stdout.lines().find(|l| l.starts_with("echo") && l.contains("port/uring")).expect("a port/uring row");
        assert!(row.contains("× raw-uring"), "port/uring is also measured against raw io_uring: {row}");
    }
    // The event loop's paths: dispatch and timers only.
    let event_paths: Vec<String> = overlap::ReactorBackend::available().iter().map(|b| format!("event/{b}")).collect();
    for p in &event_paths {
        let on = |l: &&str| l.split_whitespace().any(|w| w == p);
        let workloads: Vec<&str> = stdout.lines().filter(on).filter_map(|l| l.split_whitespace().next()).collect();
        let expected: &[&str] = if cfg!(unix) { &["timers", "dispatch"] } else { &["timers"] };
        assert_eq!(workloads, expected, "{p}: {stdout}");
        let timers = stdout.lines().filter(on).find(|l| l.starts_with("timers")).unwrap_or_default();
        assert!(timers.contains("cancel ns") && timers.contains("B/timer"), "{timers}");
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

//! `overlap bench-peer` as the shared harness runs it (`../shared/bench/README.md`, "Uniform
//! CLIs"): one `RESULT` line with every field the harness reads, sane values (never how fast:
//! timing belongs to the benchmark itself), and misuse refused with a message, never a panic.

mod common;

use std::collections::HashMap;

/// Runs `overlap ARGS` to its end: success, and the fields of its one `RESULT` line (stdout holds
/// nothing else).
fn result(args: &[&str]) -> HashMap<String, String> {
    let (status, stdout, stderr) = common::run(args);
    let status = status.unwrap_or_else(|| panic!("{args:?}: no exit within {:?}", common::PATIENCE));
    assert!(status.success(), "{args:?}: exit {status}: {stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: exactly one line on stdout: {stdout:?}");
    let rest = lines[0].strip_prefix("RESULT ").unwrap_or_else(|| panic!("{args:?}: {stdout:?}"));
    rest.split(' ')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("{args:?}: {kv:?} in {stdout:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The field `key` of `fields` as a number (it must be there and parse).
fn num(fields: &HashMap<String, String>, key: &str) -> f64 {
    let v = fields.get(key).unwrap_or_else(|| panic!("no {key}= in {fields:?}"));
    v.parse().unwrap_or_else(|_| panic!("{key}={v} is not a number"))
}

/// Exactly these keys, in any order.
fn keys_are(fields: &HashMap<String, String>, keys: &[&str]) {
    let mut got: Vec<&str> = fields.keys().map(String::as_str).collect();
    got.sort_unstable();
    let mut want = keys.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "{fields:?}");
}

/// `overlap ARGS` must fail (not a usage slip that succeeds), say every one of `what` on
/// stderr, print nothing on stdout, and not panic.
fn refused(args: &[&str], what: &[&str]) {
    let (status, stdout, stderr) = common::run(args);
    let status = status.unwrap_or_else(|| panic!("{args:?} did not end"));
    assert!(!status.success(), "{args:?}: exit {status}: {stdout}");
    assert!(stdout.is_empty(), "{args:?}: no RESULT line: {stdout}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    for w in what {
        assert!(stderr.contains(w), "{args:?}: {w:?} in {stderr:?}");
    }
}

#[cfg(unix)]
#[test]
fn dispatch_prints_one_result_line_with_every_field() {
    let mut backends: Vec<Option<&str>> = vec![None];
    backends.extend(overlap::ReactorBackend::available().iter().map(|b| Some(b.name())));
    for backend in backends {
        let mut args =
            vec!["bench-peer", "dispatch", "--pipes", "10", "--active", "2", "--writes", "100", "--iters", "3"];
        args.extend(backend.iter().flat_map(|b| ["--backend", b]));
        let f = result(&args);
        keys_are(
            &f,
            &["bench", "peer", "pipes", "active", "writes", "iters", "events", "median_us", "min_us", "ns_per_event"],
        );
        assert_eq!((f["bench"].as_str(), f["peer"].as_str()), ("dispatch", "overlap-event"), "{f:?}");
        assert_eq!(
            (num(&f, "pipes"), num(&f, "active"), num(&f, "writes"), num(&f, "iters")),
            (10.0, 2.0, 100.0, 3.0),
            "{f:?}"
        );
        assert_eq!(num(&f, "events"), 102.0, "W + A: {f:?}");
        let (median, min, per) = (num(&f, "median_us"), num(&f, "min_us"), num(&f, "ns_per_event"));
        assert!(min > 0.0 && min <= median, "{f:?}");
        // Both rounded to 0.1 in the line: compare loosely.
        assert!((per - median * 1e3 / 102.0).abs() <= 0.05 * per + 1.0, "ns_per_event = median / events: {f:?}");
    }
}

#[test]
fn timers_print_one_result_line_with_every_field() {
    let f = result(&["bench-peer", "timers", "--churn", "10000", "--fire", "1000", "--seed", "1"]);
    keys_are(&f, &["bench", "peer", "churn", "fire", "add_ns", "cancel_ns", "fire_ns", "timer_bytes"]);
    assert_eq!((f["bench"].as_str(), f["peer"].as_str()), ("timers", "overlap-event"), "{f:?}");
    assert_eq!((num(&f, "churn"), num(&f, "fire")), (10000.0, 1000.0), "{f:?}");
    for k in ["add_ns", "cancel_ns", "fire_ns"] {
        assert!(num(&f, k) > 0.0, "{k}: {f:?}");
    }
    // A whole number of bytes, measured: more than the event's id, less than a kilobyte.
    let bytes: usize = f["timer_bytes"].parse().expect("timer_bytes is an integer");
    assert!((16..1024).contains(&bytes), "{f:?}");
}

#[test]
fn timers_run_on_every_backend() {
    for b in overlap::ReactorBackend::available() {
        let f =
            result(&["bench-peer", "timers", "--churn", "1000", "--fire", "100", "--seed", "7", "--backend", b.name()]);
        assert!(num(&f, "fire_ns") > 0.0, "{b}: {f:?}");
    }
}

#[test]
fn missing_arguments_are_usage_errors() {
    refused(&["bench-peer", "dispatch", "--pipes", "10", "--active", "2", "--writes", "100"], &["--iters"]);
    refused(&["bench-peer", "timers", "--churn", "10", "--fire", "10"], &["--seed"]);
    refused(&["bench-peer"], &["dispatch", "timers"]);
}

#[test]
fn counts_out_of_range_are_refused() {
    let dispatch = |pipes: &str, active: &str, writes: &str, iters: &str| {
        ["bench-peer", "dispatch", "--pipes", pipes, "--active", active, "--writes", writes, "--iters", iters]
            .map(String::from)
    };
    for (args, flag) in [
        (dispatch("0", "1", "100", "3"), "--pipes"),
        (dispatch("10", "0", "100", "3"), "--active"),
        (dispatch("10", "1", "100", "0"), "--iters"),
        (dispatch("10", "1", "1e3", "3"), "--writes"),
        (dispatch("1000000000", "1", "100", "3"), "--pipes"),
        (dispatch("10", "1", "100", "many"), "--iters"),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, &["invalid value", flag]);
    }
    refused(&["bench-peer", "timers", "--churn", "0", "--fire", "10", "--seed", "1"], &["--churn"]);
    refused(&["bench-peer", "timers", "--churn", "10", "--fire", "100000000000", "--seed", "1"], &["--fire"]);
    refused(&["bench-peer", "timers", "--churn", "10", "--fire", "10", "--seed=-3"], &["invalid value", "--seed"]);
    // A negative number is no value at all: clap takes it for a flag, and says so.
    refused(&["bench-peer", "timers", "--churn", "-5", "--fire", "10", "--seed", "1"], &["'-5'"]);
}

#[cfg(unix)]
#[test]
fn more_chains_than_pipes_is_refused() {
    let args = ["bench-peer", "dispatch", "--pipes", "10", "--active", "11", "--writes", "100", "--iters", "3"];
    refused(&args, &["overlap: ", "--active 11", "--pipes 10"]);
}

#[test]
fn backends_that_are_not_or_do_not_run_here_are_refused() {
    let timers = |b: &str| {
        let args = ["bench-peer", "timers", "--churn", "10", "--fire", "10", "--seed", "1", "--backend"];
        args.into_iter().map(String::from).chain([b.to_string()]).collect::<Vec<_>>()
    };
    let refused_timers =
        |b: &str, what: &[&str]| refused(&timers(b).iter().map(String::as_str).collect::<Vec<_>>(), what);
    refused_timers("select", &["overlap: --backend", "select", "epoll"]);
    refused_timers("uring", &["overlap: --backend", "uring"]); // a completion backend
    for b in overlap::ReactorBackend::ALL.into_iter().filter(|b| b.check().is_err()) {
        refused_timers(b.name(), &["overlap: --backend", b.name(), "not available"]);
    }
    #[cfg(unix)]
    refused(
        &["bench-peer", "dispatch", "--pipes", "2", "--active", "1", "--writes", "1", "--iters", "1", "--backend", "x"],
        &["overlap: --backend", "\"x\""],
    );
}

#[cfg(not(unix))]
#[test]
fn dispatch_is_refused_where_there_are_no_socketpairs() {
    let args = ["bench-peer", "dispatch", "--pipes", "10", "--active", "2", "--writes", "100", "--iters", "3"];
    refused(&args, &["overlap: ", "Unix only"]);
}

#[test]
fn help_says_how_to_plug_it_into_the_harness() {
    let (status, stdout, _) = common::run(&["bench-peer", "--help"]);
    assert!(status.is_some_and(|s| s.success()), "{stdout}");
    for s in ["PROJECT_BENCH", "PROJECT_TIMERS", "bench-peer dispatch", "bench-peer timers", "--model event"] {
        assert!(stdout.contains(s), "{s} in {stdout}");
    }
}

#[cfg(unix)]
#[test]
fn too_few_open_files_for_the_pipes_is_said() {
    // A shell lowers both limits, then becomes the peer: 1000 pipes need about 2064 descriptors.
    let script = r#"ulimit -n 64 && exec "$0" bench-peer dispatch --pipes 1000 --active 1 --writes 10 --iters 1"#;
    let out =
        std::process::Command::new("sh").args(["-c", script, env!("CARGO_BIN_EXE_overlap")]).output().expect("run sh");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.is_empty() && !stderr.contains("panicked"), "{stdout}\n{stderr}");
    for w in ["overlap: ", "--pipes 1000", "open files", "64", "ulimit -Hn"] {
        assert!(stderr.contains(w), "{w:?} in {stderr:?}");
    }
}

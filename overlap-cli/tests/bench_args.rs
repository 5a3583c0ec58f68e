//! `overlap bench` with settings it cannot honour: refused up front with a clear message and a
//! non-zero exit, never a panic, an abort, a hang or a silent change of what was asked.

mod common;

use std::process::ExitStatus;

/// A path that runs everywhere, for the runs that should get past the checks.
fn some_reactor() -> String {
    format!("reactor/{}", overlap::ReactorBackend::available()[0])
}

/// `overlap bench` with `args` must be refused as a usage error (clap's exit code 2) naming
/// `flag`, before measuring anything.
fn usage_error(args: &[&str], flag: &str) {
    let (status, stdout, stderr) = common::run(args);
    let status: ExitStatus = status.unwrap_or_else(|| panic!("{args:?} did not end"));
    assert_eq!(status.code(), Some(2), "{args:?}: a usage error, not {status}: {stdout}\n{stderr}");
    assert!(stderr.contains("invalid value") && stderr.contains(flag), "{args:?}: {stderr}");
    assert!(!stdout.contains("machine:"), "{args:?}: refused before measuring: {stdout}");
}

#[test]
fn secs_must_be_finite_positive_and_bounded() {
    let reactor = some_reactor();
    for secs in ["inf", "1e300", "-1", "NaN", "0", "0.001", "3601", "soon"] {
        let secs = format!("--secs={secs}");
        usage_error(&["bench", "wakeup", "--backends", &reactor, &secs], "--secs");
    }
}

#[test]
fn sizes_counts_and_rounds_out_of_range_are_refused() {
    let reactor = some_reactor();
    for (arg, flag) in [
        ("--size=0", "--size"),
        ("--size=67108865", "--size"),
        ("--size=1099511627776", "--size"),
        ("--size=64,0", "--size"),
        ("--conns=0", "--conns"),
        ("--conns=1000000000", "--conns"),
        ("--rounds=0", "--rounds"),
        ("--rounds=18446744073709551615", "--rounds"),
    ] {
        usage_error(&["bench", "echo", "--quick", "--secs", "0.05", "--backends", &reactor, arg], flag);
    }
}

#[test]
fn help_states_the_limits() {
    let (status, stdout, _) = common::run(&["bench", "--help"]);
    assert!(status.is_some_and(|s| s.success()), "{stdout}");
    for limit in ["3600", "64 MiB", "16384", "1000"] {
        assert!(stdout.contains(limit), "--help states {limit}: {stdout}");
    }
}

#[test]
fn unknown_path_beside_a_valid_one_is_refused() {
    let reactor = some_reactor();
    let list = format!("{reactor},reactor/epol");
    let (status, stdout, stderr) = common::run(&["bench", "wakeup", "--quick", "--secs", "0.05", "--backends", &list]);
    let status = status.expect("an exit");
    assert!(!status.success(), "a typo beside a valid name must fail: {stdout}\n{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("reactor/epol"), "names the unknown one: {stderr}");
    // Lists the valid names.
    for p in overlap::ReactorBackend::available() {
        assert!(stderr.contains(&format!("reactor/{p}")), "lists reactor/{p}: {stderr}");
    }
    for p in overlap::PortBackend::available() {
        assert!(stderr.contains(&format!("port/{p}")), "lists port/{p}: {stderr}");
    }
    assert!(!stdout.contains("machine:"), "refused before measuring: {stdout}");
}

#[test]
fn a_known_path_that_cannot_run_here_says_why() {
    // A backend of another OS (every OS lacks some).
    let missing = overlap::PortBackend::ALL.into_iter().find(|b| b.check().is_err()).expect("a missing backend");
    let name = format!("port/{}", missing.name());
    let (status, stdout, stderr) = common::run(&["bench", "timers", "--quick", "--secs", "0.05", "--backends", &name]);
    assert!(!status.expect("an exit").success(), "{stdout}\n{stderr}");
    assert!(stderr.contains(&name) && stderr.contains("not available"), "{stderr}");
}

/// Messages larger than what the sockets buffer: every path echoes them (nothing deadlocks or
/// resets the connection), within the run's own time.
#[test]
fn messages_larger_than_the_socket_buffers_echo_on_every_path() {
    let dir = std::env::temp_dir();
    let json = dir.join(format!("overlap-bench-large-{}.json", std::process::id()));
    let svg = dir.join(format!("overlap-bench-large-{}.svg", std::process::id()));
    let (json_arg, svg_arg) = (json.to_str().expect("a UTF-8 path"), svg.to_str().expect("a UTF-8 path"));
    let args = ["bench", "echo", "--quick", "--secs", "0.3", "--conns", "2", "--size", "16777216"];
    let (status, stdout, stderr) = common::run(&[&args[..], &["--json", json_arg, "--svg", svg_arg]].concat());
    let _ = (std::fs::remove_file(&json), std::fs::remove_file(&svg));
    let status = status.unwrap_or_else(|| panic!("no exit within {:?}: {stdout}\n{stderr}", common::PATIENCE));
    assert!(status.success(), "exit {status}: {stdout}\n{stderr}");
    assert!(!stdout.contains("failed"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("echo") && l.contains("2 conns")), "{stdout}");
}

/// A `--json` or `--svg` file that cannot be written fails at once, naming the file, not after a
/// whole run.
#[test]
fn an_output_file_that_cannot_be_written_fails_before_measuring() {
    let reactor = some_reactor();
    let nowhere = std::env::temp_dir().join(format!("overlap-no-such-dir-{}", std::process::id())).join("x.json");
    let nowhere = nowhere.to_str().expect("a UTF-8 path");
    for flag in ["--json", "--svg"] {
        let (status, stdout, stderr) =
            common::run(&["bench", "echo", "--quick", "--secs", "0.05", "--backends", &reactor, flag, nowhere]);
        assert!(!status.expect("an exit").success(), "{flag}: {stdout}\n{stderr}");
        assert!(stderr.contains(flag) && stderr.contains(nowhere), "{flag}: names the file: {stderr}");
        assert!(!stdout.contains("machine:"), "{flag}: refused before measuring: {stdout}");
    }
}

/// A workload that has no cell on the paths chosen (timers run on completion ports and the event
/// loop only; bulk on the floor and the readiness paths of the default backend) is an error, not
/// an empty table.
#[test]
fn a_workload_with_no_cell_on_the_paths_chosen_is_an_error() {
    let reactor = some_reactor();
    let port = format!("port/{}", overlap::PortBackend::available()[0].name());
    for (workload, path) in [("timers", reactor.as_str()), ("bulk", port.as_str())] {
        let (status, stdout, stderr) = common::run(&["bench", workload, "--quick", "--backends", path]);
        assert!(!status.expect("an exit").success(), "{stdout}\n{stderr}");
        assert!(stderr.contains(workload) && stderr.contains(path) && stderr.contains("no cell"), "{stderr}");
        assert!(!stdout.contains("machine:"), "refused before measuring: {stdout}");
    }
}

/// The bulk workload's own bounds: `--secs` and `--rounds` as every workload's, and no echo
/// setting (its read sizes are its cells).
#[test]
fn bulk_refuses_bad_settings() {
    let reactor = format!("reactor/{}", overlap::ReactorBackend::default());
    for (arg, flag) in [("--secs=0", "--secs"), ("--secs=inf", "--secs"), ("--rounds=0", "--rounds")] {
        usage_error(&["bench", "bulk", "--backends", &reactor, arg], flag);
    }
    for (flag, value) in [("--conns", "4"), ("--size", "16384")] {
        let (status, stdout, stderr) =
            common::run(&["bench", "bulk", "--secs", "0.05", "--backends", &reactor, flag, value]);
        assert!(!status.expect("an exit").success(), "{flag}: {stdout}\n{stderr}");
        assert!(stderr.contains(flag) && stderr.contains("echo") && stderr.contains("bulk"), "{flag}: {stderr}");
        assert!(!stdout.contains("machine:"), "{flag}: refused before measuring: {stdout}");
    }
}

/// The echo settings and the chart asked of a workload that has neither: refused, not ignored.
#[test]
fn echo_flags_asked_of_another_workload_are_refused() {
    let reactor = some_reactor();
    let svg = std::env::temp_dir().join(format!("overlap-bench-wakeup-{}.svg", std::process::id()));
    let svg = svg.to_str().expect("a UTF-8 path");
    for (flag, value) in [("--conns", "4"), ("--size", "128"), ("--svg", svg)] {
        let (status, stdout, stderr) =
            common::run(&["bench", "wakeup", "--quick", "--secs", "0.05", "--backends", &reactor, flag, value]);
        assert!(!status.expect("an exit").success(), "{flag}: {stdout}\n{stderr}");
        assert!(stderr.contains(flag) && stderr.contains("echo"), "{flag}: {stderr}");
        assert!(!stdout.contains("machine:"), "{flag}: refused before measuring: {stdout}");
    }
    assert!(!std::path::Path::new(svg).exists(), "no chart written");
}

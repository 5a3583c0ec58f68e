//! What the process tests share: an `overlap` child process that is killed when dropped (a
//! failing assertion never leaves a server running), with bounded waits for its first line and
//! its exit.
#![allow(dead_code)] // each test file uses a part

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a test waits for a line or an exit before it fails (generous: a loaded machine
/// and a debug build).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A running `overlap`, killed and reaped on drop.
pub struct Overlap {
    child: Child,
    stdout: Option<ChildStdout>,
    /// Reads stderr from the start, so that a chatty child never blocks on a full pipe.
    stderr: Option<std::thread::JoinHandle<String>>,
    args: Vec<String>,
}

impl Overlap {
    /// Starts `overlap ARGS` with stdout and stderr piped.
    pub fn start(args: &[&str]) -> Overlap {
        let child = Command::new(env!("CARGO_BIN_EXE_overlap"))
            .args(args)
            // Report files a run writes by default go to a scratch folder, not the work tree.
            .env("CARGO_TARGET_DIR", std::env::temp_dir().join(format!("overlap-cli-tests-{}", std::process::id())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start overlap");
        let mut p = Overlap { child, stdout: None, stderr: None, args: args.iter().map(|s| s.to_string()).collect() };
        p.stdout = p.child.stdout.take();
        let mut stderr = p.child.stderr.take().expect("stderr");
        p.stderr = Some(std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        }));
        p
    }

    /// The process id (to send it a signal).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The first line on stdout, or `None` if stdout closed first (the process ended) or nothing
    /// came within [`PATIENCE`].
    pub fn first_line(&mut self) -> Option<String> {
        let stdout = self.stdout.take()?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = BufReader::new(stdout);
            let mut line = String::new();
            let got = out.read_line(&mut line).ok().filter(|&n| n > 0).map(|_| line);
            let _ = tx.send(got);
        });
        rx.recv_timeout(PATIENCE).ok().flatten()
    }

    /// The address of a server that printed `listening on ADDR …`; panics if it did not.
    pub fn listening_on(&mut self) -> String {
        let line = self.first_line();
        match line.as_deref().and_then(|l| l.strip_prefix("listening on ")) {
            Some(rest) => rest.split_whitespace().next().unwrap_or_default().to_string(),
            None => {
                let (status, stderr) = self.exit();
                panic!("{:?}: no `listening on` line ({line:?}); exit {status:?}, stderr: {stderr}", self.args)
            }
        }
    }

    /// Waits (at most [`PATIENCE`]) for the process to end: its status (`None` if it had not
    /// ended, and then it is killed) and all it wrote on stderr.
    pub fn exit(&mut self) -> (Option<ExitStatus>, String) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break Some(s);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20)); // polling for the exit, not synchronising
        };
        let stderr = self.stderr.take().map(|r| r.join().unwrap_or_default()).unwrap_or_default();
        (status, stderr)
    }
}

impl Drop for Overlap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `overlap ARGS` to its end (at most [`PATIENCE`]; killed after): the exit status (`None`
/// when it did not end in time), stdout and stderr.
pub fn run(args: &[&str]) -> (Option<ExitStatus>, String, String) {
    let mut p = Overlap::start(args);
    let mut stdout = p.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let (status, stderr) = p.exit();
    drop(p);
    let stdout = reader.join().unwrap_or_default();
    (status, stdout, stderr)
}

//! chlint on hostile input, run as a user's CI would meet it: killed (and
//! the test failed) past a deadline, its output read while it runs (a full
//! pipe would otherwise stall it), and its end asserted: no signal, no
//! panic, exit code 0, 1 or 2.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The standard output as JSON (`--format json`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("invalid JSON ({e}):\n{}", self.stdout))
    }
}

/// Run `cmd` (chlint, or a shell that limits and then runs it); `what`
/// names it in failure messages.
pub fn run(mut cmd: Command, what: &str, timeout: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chlint starts");
    let started = Instant::now();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not end within {timeout:?}");
        }
        thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    let code = status
        .code()
        .unwrap_or_else(|| panic!("{what} was killed by a signal (out of memory?)\n{stderr}"));
    assert!(matches!(code, 0..=2), "{what} exited with {code}\n{stderr}");
    assert!(
        !stderr.contains("panicked") && !stdout.contains("panicked"),
        "{what} panicked:\n{stderr}"
    );
    Run {
        code,
        stdout,
        stderr,
    }
}

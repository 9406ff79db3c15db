//! Running Debian's ClickHouse 18.16 server as a reference.
//!
//! Each run gets a scratch folder laid out as `etc/` (the package's shipped
//! `config.xml` and `users.xml` with their paths pointed at the scratch
//! folder, plus the case's overlay files), `data/` and `log/`. The server runs
//! inside a private network namespace made for that run (`ip netns add`, only
//! `lo` up unless the test adds more), so runs cannot collide and nothing
//! listens on the machine's own network. Where namespaces cannot be made
//! (not root), the runs fall back to the machine's loopback with ports of
//! their own, and callers keep every address loopback.
//!
//! The server is stopped by its PID (SIGKILL: the runs are disposable, and a
//! clean shutdown of 18.16 takes 0.5–2 s), and the namespace is deleted.
//!
//! Configuration comes from the environment (`.ci/run` sets it):
//! - `CHLINT_CH18_SERVER`: the `clickhouse-server` binary (required);
//! - `CHLINT_CH18_CLIENT`: `clickhouse-client` (for native-protocol probes);
//! - `CHLINT_CH18_SHIPPED`: the folder with the package's `config.xml` and
//!   `users.xml` (default `/etc/clickhouse-server`);
//! - `CHLINT_CH18_SKIP_REASON`: why the server is not available (printed);
//! - `CHLINT_LIVE_NETNS=0`: do not use network namespaces.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::live;
use super::scratch::Scratch;

pub const SERVER_VAR: &str = "CHLINT_CH18_SERVER";
pub const CLIENT_VAR: &str = "CHLINT_CH18_CLIENT";
pub const SHIPPED_VAR: &str = "CHLINT_CH18_SHIPPED";
pub const SKIP_VAR: &str = "CHLINT_CH18_SKIP_REASON";
pub const NETNS_VAR: &str = "CHLINT_LIVE_NETNS";

/// The log line 18.16 writes once it accepts connections.
const READY_LINE: &str = "Ready for connections";

#[derive(Clone, Debug)]
pub struct Ch18 {
    pub server: PathBuf,
    pub client: Option<PathBuf>,
    pub shipped_config: String,
    pub shipped_users: String,
    /// Runs get a network namespace of their own.
    pub netns: bool,
    /// Why runs fall back to loopback, when they do.
    pub netns_problem: Option<String>,
    /// util-linux `setpriv`, to have a server killed if the test dies.
    pub setpriv: Option<PathBuf>,
}

impl Ch18 {
    /// The reference server, or `None` after printing why the test is
    /// skipped. A server that is named but unusable fails the test: only a
    /// missing installation skips.
    pub fn detect(test: &str) -> Option<Ch18> {
        let Some(server) = std::env::var_os(SERVER_VAR).filter(|v| !v.is_empty()) else {
            let reason = std::env::var(SKIP_VAR).unwrap_or_else(|_| {
                format!(
                    "{SERVER_VAR} is not set, so ClickHouse 18.16 is not run \
                     (.ci/run installs it and sets it; see README, \"Checking against real ClickHouse\")"
                )
            });
            live::skipped(test, &reason);
            return None;
        };
        let server = PathBuf::from(server);
        assert!(
            server.is_file(),
            "{SERVER_VAR}={} is not a file",
            server.display()
        );
        let client = std::env::var_os(CLIENT_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        if let Some(c) = &client {
            assert!(c.is_file(), "{CLIENT_VAR}={} is not a file", c.display());
        }
        let shipped = std::env::var_os(SHIPPED_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/etc/clickhouse-server"));
        let read = |name: &str| {
            let p = shipped.join(name);
            fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        let (shipped_config, shipped_users) = (read("config.xml"), read("users.xml"));
        let netns_problem = if std::env::var(NETNS_VAR).as_deref() == Ok("0") {
            Some(format!("{NETNS_VAR}=0"))
        } else {
            remove_stale_namespaces();
            Netns::new().err()
        };
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file());
        Some(Ch18 {
            server,
            client,
            shipped_config,
            shipped_users,
            netns: netns_problem.is_none(),
            netns_problem,
            setpriv,
        })
    }

    /// One line on how runs are isolated, for the test's summary.
    pub fn isolation(&self) -> String {
        match &self.netns_problem {
            None => "each server in its own network namespace".to_string(),
            Some(why) => format!(
                "network namespaces unavailable ({why}): servers on loopback with ports of their own"
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Network namespaces

/// A network namespace with `lo` up, deleted when dropped.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Result<Netns, String> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "chlint-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        ip(&["netns", "add", &name])?;
        let ns = Netns { name };
        ip(&["-n", &ns.name, "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// A command run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// `ip -n NS ARGS…`
    pub fn ip(&self, args: &[&str]) -> Result<(), String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.name]);
    }
}

/// Delete namespaces this harness made in runs whose process is gone (a
/// test killed before it could clean up): `chlint-<pid>-<n>`.
fn remove_stale_namespaces() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or_default();
        let Some(pid) = name
            .strip_prefix("chlint-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

/// Run `ip ARGS…`; `Err` with its message when it fails.
pub fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `ip`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Two namespaces joined by a veth pair: the server's (`10.77.0.1`,
/// `fd77::1` on `v0`) and a client's (`10.77.0.2`, `fd77::2` on `v1`), so a
/// probe from the client namespace comes from beyond the server's loopback.
pub struct Pair {
    pub server: Netns,
    pub client: Netns,
}

pub const SERVER_V4: &str = "10.77.0.1";
pub const SERVER_V6: &str = "fd77::1";

impl Pair {
    pub fn new() -> Result<Pair, String> {
        let server = Netns::new()?;
        let client = Netns::new()?;
        ip(&[
            "link",
            "add",
            "v0",
            "netns",
            &server.name,
            "type",
            "veth",
            "peer",
            "name",
            "v1",
            "netns",
            &client.name,
        ])?;
        server.ip(&["addr", "add", "10.77.0.1/24", "dev", "v0"])?;
        server.ip(&["addr", "add", "fd77::1/64", "dev", "v0", "nodad"])?;
        client.ip(&["addr", "add", "10.77.0.2/24", "dev", "v1"])?;
        client.ip(&["addr", "add", "fd77::2/64", "dev", "v1", "nodad"])?;
        server.ip(&["link", "set", "v0", "up"])?;
        client.ip(&["link", "set", "v1", "up"])?;
        Ok(Pair { server, client })
    }
}

// ---------------------------------------------------------------------------
// A run folder

/// The ports a run's server uses (changed from the package's only when runs
/// share the machine's loopback).
#[derive(Clone, Copy, Debug)]
pub struct Ports {
    pub http: u16,
    pub tcp: u16,
    pub interserver: u16,
}

impl Default for Ports {
    fn default() -> Ports {
        Ports {
            http: 8123,
            tcp: 9000,
            interserver: 9009,
        }
    }
}

pub struct RunDir {
    pub scratch: Scratch,
    pub etc: PathBuf,
    pub data: PathBuf,
    pub log: PathBuf,
    pub ports: Ports,
}

impl RunDir {
    /// A fresh run folder with the shipped configuration in `etc/`.
    pub fn new(ch: &Ch18, label: &str) -> Result<RunDir, String> {
        let scratch = Scratch::new(label)?;
        let root = scratch.path().to_path_buf();
        let (etc, data, log) = (root.join("etc"), root.join("data"), root.join("log"));
        for d in [&etc, &data, &log] {
            fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let ports = if ch.netns {
            Ports::default()
        } else {
            free_ports()?
        };
        let config = ch
            .shipped_config
            .replace(
                "/var/log/clickhouse-server/",
                &format!("{}/", log.display()),
            )
            .replace("/var/lib/clickhouse/", &format!("{}/", data.display()))
            .replace("<level>warning</level>", "<level>information</level>")
            .replace(
                "<http_port>8123</http_port>",
                &format!("<http_port>{}</http_port>", ports.http),
            )
            .replace(
                "<tcp_port>9000</tcp_port>",
                &format!("<tcp_port>{}</tcp_port>", ports.tcp),
            )
            .replace(
                "<interserver_http_port>9009</interserver_http_port>",
                &format!(
                    "<interserver_http_port>{}</interserver_http_port>",
                    ports.interserver
                ),
            );
        let run = RunDir {
            scratch,
            etc,
            data,
            log,
            ports,
        };
        run.write("config.xml", config.as_bytes())?;
        run.write("users.xml", ch.shipped_users.as_bytes())?;
        Ok(run)
    }

    /// Write a file under `etc/`, making its folders.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), String> {
        let p = self.etc.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))
    }

    /// What the server wrote to `preprocessed_configs/NAME`, if anything.
    pub fn preprocessed(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.data.join("preprocessed_configs").join(name)).ok()
    }

    /// The server's console output and the error lines of its log.
    pub fn errors(&self) -> String {
        let mut out = String::new();
        if let Ok(s) = fs::read_to_string(self.log.join("stdout.txt")) {
            for l in s
                .lines()
                .filter(|l| !l.starts_with("Logging ") && !l.starts_with("Include not found"))
            {
                out.push_str(l);
                out.push('\n');
            }
        }
        if let Ok(s) = fs::read_to_string(self.log.join("clickhouse-server.err.log")) {
            for l in s.lines().filter(|l| l.contains("<Error>")).take(5) {
                out.push_str(&l.chars().take(400).collect::<String>());
                out.push('\n');
            }
        }
        out
    }
}

fn free_ports() -> Result<Ports, String> {
    let bind = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot find a free port: {e}"))
    };
    let (a, b, c) = (bind()?, bind()?, bind()?);
    let port = |l: &std::net::TcpListener| l.local_addr().map(|a| a.port()).unwrap_or(0);
    Ok(Ports {
        http: port(&a),
        tcp: port(&b),
        interserver: port(&c),
    })
}

// ---------------------------------------------------------------------------
// The server process

#[derive(Debug)]
pub enum Started {
    Ready,
    Exited(ExitStatus),
    TimedOut,
}

pub struct Server {
    child: Option<Child>,
    pub pid: u32,
}

impl Server {
    /// Start `clickhouse-server --config-file=etc/config.xml` with exactly
    /// the environment `env`, inside `ns` when given.
    pub fn start(
        ch: &Ch18,
        run: &RunDir,
        env: &[(String, String)],
        ns: Option<&Netns>,
    ) -> Result<Server, String> {
        let server = ch.server.to_string_lossy().into_owned();
        // With setpriv, the server gets SIGKILL if the thread that started
        // it dies (a test killed halfway); setpriv execs it: same PID.
        let first = match &ch.setpriv {
            Some(p) => p.to_string_lossy().into_owned(),
            None => server.clone(),
        };
        let mut cmd = match ns {
            Some(ns) => ns.command(&first),
            None => Command::new(&first),
        };
        if ch.setpriv.is_some() {
            cmd.args(["--pdeathsig", "KILL", &server]);
        }
        let stdout = fs::File::create(run.log.join("stdout.txt"))
            .map_err(|e| format!("{}: {e}", run.log.display()))?;
        let stderr = stdout.try_clone().map_err(|e| e.to_string())?;
        cmd.arg(format!(
            "--config-file={}",
            run.etc.join("config.xml").display()
        ))
        .current_dir(run.scratch.path())
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {server}: {e}"))?;
        // `ip netns exec` (and setpriv) exec the program: this PID is the server's.
        Ok(Server {
            pid: child.id(),
            child: Some(child),
        })
    }

    /// Wait until the server logs that it is ready, exits, or `timeout` passes.
    pub fn wait_ready(&mut self, run: &RunDir, timeout: Duration) -> Started {
        let log = run.log.join("clickhouse-server.log");
        let start = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Started::Exited(status);
                }
            }
            if fs::read_to_string(&log).is_ok_and(|s| s.contains(READY_LINE)) {
                return Started::Ready;
            }
            if start.elapsed() > timeout {
                return Started::TimedOut;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stop the server by its PID and reap it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Run a command, with a time limit, and collect its output.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Result<Output, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e.to_string()),
        }
    }
    child.wait_with_output().map_err(|e| e.to_string())
}

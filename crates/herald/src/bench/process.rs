//! A `herald serve` child process to benchmark, with its CPU time and memory read from /proc.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct ServerProcess {
    child: Child,
    pub url: String,
}

/// How long a server may take to start listening.
const START_LIMIT: Duration = Duration::from_secs(120);

impl ServerProcess {
    /// Start `herald serve` on a free loopback port with the given keys.
    pub fn start(
        data_dir: &Path,
        write_key: &str,
        admin_key: &str,
        extra: &[&str],
    ) -> anyhow::Result<ServerProcess> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("HERALD_WRITE_KEY", write_key)
            .env("HERALD_ADMIN_KEY", admin_key)
            // Quiet unless asked for (`HERALD_LOG=info herald bench …` shows what servers do).
            .env(
                "HERALD_LOG",
                std::env::var("HERALD_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        // Read stdout on a thread (and keep draining it, so the child never blocks on a full
        // pipe); wait for the address with a deadline, so a server stuck at start fails the
        // run instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url.trim().to_owned());
                    }
                }
            }
        });
        match rx.recv_timeout(START_LIMIT) {
            Ok(url) => Ok(ServerProcess { child, url }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("the server did not start listening within {START_LIMIT:?} ({e})")
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User + system CPU seconds the process has used so far.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
        Ok(ticks / clock_ticks_per_second())
    }

    /// Resident set size in MiB.
    pub fn rss_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .ok_or_else(|| anyhow::anyhow!("no VmRSS"))?
            .parse()?;
        Ok(kb / 1024.0)
    }

    pub fn stop(mut self) -> anyhow::Result<()> {
        // SIGTERM for a graceful stop, then wait.
        terminate(self.pid());
        for _ in 0..100 {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child.kill()?;
        Ok(())
    }
}

/// A benchmark that fails leaves no server behind (its data directory is about to go).
impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn clock_ticks_per_second() -> f64 {
    // USER_HZ is 100 on every Linux architecture Herald targets.
    100.0
}

fn terminate(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

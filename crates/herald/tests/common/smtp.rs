//! A real SMTP server for the messaging tests: aiosmtpd (from PyPI, installed in `.venv` by
//! scripts/test.sh) on a free loopback port, writing what it receives to a maildir, and
//! refusing recipients whose address starts with `bounce` (tests/sdk/smtp_sink.py).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use super::eventually;

/// aiosmtpd on a free loopback port, storing every message in `<dir>/mail/new/`.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: ./scripts/test.sh installs the test SDKs (aiosmtpd among them)",
            python.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "smtp_sink.Mailbox"])
            .env(
                "PYTHONPATH",
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/sdk"),
            )
            .arg(dir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        eventually(20, "aiosmtpd listening", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).ok()
        });
        SmtpSink { child, port, dir }
    }

    /// Every message received so far (the raw RFC 5322 text).
    pub fn received(&self) -> Vec<String> {
        let new = self.dir.path().join("mail/new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return vec![];
        };
        let mut mails: Vec<String> = entries
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        mails.sort();
        mails
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! `herald healthcheck`: GET the local server's readiness endpoint; exit 0 when it answers
//! 200, 1 otherwise. For container health checks (a `scratch` image has no curl).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use clap::Args;

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The address the server listens on (as given to `serve`); an unspecified address
    /// (`0.0.0.0`, `[::]`) is reached on loopback.
    #[arg(long, env = "HERALD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The endpoint to ask: `/readyz` (ready to serve: storage reachable, processing not
    /// failing) or `/healthz` (the process answers).
    #[arg(long, default_value = "/readyz")]
    pub path: String,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 5)]
    pub timeout: u64,
}

pub fn run(args: &HealthcheckArgs) -> anyhow::Result<()> {
    match probe(args) {
        Ok(200) => {
            println!("ok: {} answered 200", args.path);
            Ok(())
        }
        Ok(status) => {
            eprintln!("unhealthy: {} answered {status}", args.path);
            std::process::exit(1)
        }
        Err(e) => {
            eprintln!("unhealthy: {e}");
            std::process::exit(1)
        }
    }
}

fn probe(args: &HealthcheckArgs) -> std::io::Result<u16> {
    let timeout = Duration::from_secs(args.timeout.max(1));
    let mut addr: SocketAddr = args
        .listen
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("no address for {}", args.listen)))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
        args.path
    )?;
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        let n = stream.read(&mut head[read..])?;
        if n == 0 {
            break;
        }
        read += n;
    }
    let line = String::from_utf8_lossy(&head[..read]);
    line.strip_prefix("HTTP/1.1 ")
        .or_else(|| line.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer from {addr}")))
}

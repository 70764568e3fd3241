//! The SMTP connection pool. lettre's own pool connects without `TCP_NODELAY` (lettre 0.11.23;
//! the fix, lettre PR #1159, is not released yet), and lettre writes a message's body and its
//! `.` terminator in two writes: Nagle holds the terminator until the body is acknowledged,
//! and the server delays that acknowledgment by 40 ms, so every message on a pooled
//! connection waited 40 ms (25 messages a second per connection). This pool makes the TCP
//! connection itself, with `TCP_NODELAY`, and hands it to lettre's `AsyncSmtpConnection` for
//! the protocol (EHLO, STARTTLS, AUTH, the transaction). Implicit TLS (port 465) still
//! connects through lettre, Nagle and all, until lettre's release.
//!
//! At most `max` connections at once; an idle connection is reused for a minute, newest
//! first; a connection that failed in any way is closed, not reused.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::smtp::{classify_error, SmtpSecurity};
use crate::port::SendError;

/// How long an idle connection is kept.
const IDLE_FOR: Duration = Duration::from_secs(60);

/// Where and how to connect.
pub(super) struct Target {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub tls: Option<TlsParameters>,
    pub hello: ClientId,
    pub credentials: Option<Credentials>,
    /// For connecting, and for each message's transaction.
    pub timeout: Duration,
}

pub(super) struct Pool {
    target: Target,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    slots: Semaphore,
}

impl Pool {
    pub fn new(target: Target, max: u32) -> Pool {
        Pool {
            target,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(max as usize),
        }
    }

    /// Send one message (its envelope and its bytes as they go on the wire).
    pub async fn send(&self, envelope: &Envelope, email: &[u8]) -> Result<(), SendError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| SendError::transient("SMTP: the pool is closed"))?;
        let mut conn = match self.take_idle() {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        match tokio::time::timeout(self.target.timeout, conn.send(envelope, email)).await {
            Ok(Ok(_)) if !conn.has_broken() => {
                self.put_back(conn);
                Ok(())
            }
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                conn.abort().await;
                Err(classify_error(&e))
            }
            Err(_) => Err(SendError::transient(format!(
                "SMTP: no answer within {:?}",
                self.target.timeout
            ))),
        }
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.retain(|(_, since)| since.elapsed() < IDLE_FOR);
        idle.pop().map(|(conn, _)| conn)
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.push((conn, Instant::now()));
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let t = &self.target;
        let connecting = async {
            let mut conn = match (t.security, &t.tls) {
                (SmtpSecurity::Tls, Some(tls)) => AsyncSmtpConnection::connect_tokio1(
                    (t.host.as_str(), t.port),
                    Some(t.timeout),
                    &t.hello,
                    Some(tls.clone()),
                    None,
                )
                .await
                .map_err(|e| classify_error(&e))?,
                _ => {
                    let tcp = TcpStream::connect((t.host.as_str(), t.port))
                        .await
                        .map_err(|e| SendError::transient(format!("SMTP: connecting: {e}")))?;
                    tcp.set_nodelay(true)
                        .map_err(|e| SendError::transient(format!("SMTP: TCP_NODELAY: {e}")))?;
                    let mut conn =
                        AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &t.hello)
                            .await
                            .map_err(|e| classify_error(&e))?;
                    if let (SmtpSecurity::Starttls, Some(tls)) = (t.security, &t.tls) {
                        conn.starttls(tls.clone(), &t.hello)
                            .await
                            .map_err(|e| classify_error(&e))?;
                    }
                    conn
                }
            };
            if let Some(credentials) = &t.credentials {
                conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await
                    .map_err(|e| classify_error(&e))?;
            }
            Ok(conn)
        };
        tokio::time::timeout(t.timeout, connecting)
            .await
            .unwrap_or_else(|_| {
                Err(SendError::transient(format!(
                    "SMTP: no connection within {:?}",
                    t.timeout
                )))
            })
    }
}

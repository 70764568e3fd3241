//! A small ESMTP server on loopback (RFC 5321: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA
//! with dot-unstuffing, RSET, NOOP, QUIT) that records every message it accepts.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Advertise AUTH PLAIN and accept only these credentials.
    pub credentials: Option<(String, String)>,
    /// The reply to every RCPT, instead of `250 2.1.5 Ok`.
    pub rcpt_reply: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub authenticated_as: Option<String>,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as received, CRLF line ends, dots unstuffed, without the final `.`.
    pub data: String,
}

pub struct SmtpStandIn {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub connections: Arc<Mutex<usize>>,
}

impl SmtpStandIn {
    pub async fn start(options: Options) -> SmtpStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (r, c) = (received.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                *c.lock().unwrap() += 1;
                tokio::spawn(session(stream, options.clone(), r.clone()));
            }
        });
        SmtpStandIn {
            addr,
            received,
            connections,
        }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn session(stream: TcpStream, options: Options, received: Arc<Mutex<Vec<Received>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if write
        .write_all(&reply("220 standin ESMTP ready".into()))
        .await
        .is_err()
    {
        return;
    }
    let mut user: Option<String> = None;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end_matches(['\r', '\n']).to_owned();
        let upper = command.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") {
            let mut lines = vec!["250-standin".to_owned(), "250-8BITMIME".to_owned()];
            if options.credentials.is_some() {
                lines.push("250-AUTH PLAIN".to_owned());
            }
            lines.push("250 PIPELINING".to_owned());
            lines.join("\r\n")
        } else if upper.starts_with("HELO") {
            "250 standin".to_owned()
        } else if upper.starts_with("AUTH PLAIN") {
            let initial = command[10..].trim().to_owned();
            let response = if initial.is_empty() {
                if write.write_all(&reply("334 ".into())).await.is_err() {
                    return;
                }
                let mut next = String::new();
                if lines.read_line(&mut next).await.is_err() {
                    return;
                }
                next.trim().to_owned()
            } else {
                initial
            };
            match (check_plain(&response), &options.credentials) {
                (Some((u, p)), Some((eu, ep))) if &u == eu && &p == ep => {
                    user = Some(u);
                    "235 2.7.0 Authentication successful".to_owned()
                }
                _ => "535 5.7.8 Authentication credentials invalid".to_owned(),
            }
        } else if upper.starts_with("MAIL FROM:") {
            if options.credentials.is_some() && user.is_none() {
                "530 5.7.0 Authentication required".to_owned()
            } else {
                mail_from = Some(angle(&command[10..]));
                rcpt_to.clear();
                "250 2.1.0 Ok".to_owned()
            }
        } else if upper.starts_with("RCPT TO:") {
            match &options.rcpt_reply {
                Some(r) => r.clone(),
                None => {
                    rcpt_to.push(angle(&command[8..]));
                    "250 2.1.5 Ok".to_owned()
                }
            }
        } else if upper == "DATA" {
            if mail_from.is_none() || rcpt_to.is_empty() {
                "503 5.5.1 Bad sequence of commands".to_owned()
            } else {
                if write
                    .write_all(&reply("354 End data with <CR><LF>.<CR><LF>".into()))
                    .await
                    .is_err()
                {
                    return;
                }
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    match lines.read_line(&mut l).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    let unstuffed = l.strip_prefix('.').unwrap_or(&l);
                    data.push_str(unstuffed);
                }
                received.lock().unwrap().push(Received {
                    authenticated_as: user.clone(),
                    mail_from: mail_from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                });
                "250 2.0.0 Ok: queued as STANDIN".to_owned()
            }
        } else if upper == "RSET" {
            mail_from = None;
            rcpt_to.clear();
            "250 2.0.0 Ok".to_owned()
        } else if upper == "NOOP" {
            "250 2.0.0 Ok".to_owned()
        } else if upper == "QUIT" {
            let _ = write.write_all(&reply("221 2.0.0 Bye".into())).await;
            return;
        } else {
            "502 5.5.2 Command not recognized".to_owned()
        };
        if write.write_all(&reply(answer)).await.is_err() {
            return;
        }
    }
}

fn reply(text: String) -> Vec<u8> {
    (text + "\r\n").into_bytes()
}

fn angle(s: &str) -> String {
    let s = s.trim();
    let end = s.find('>').map(|i| i + 1).unwrap_or(s.len());
    s[..end]
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

/// RFC 4616: base64 of `authzid NUL authcid NUL passwd`.
fn check_plain(response: &str) -> Option<(String, String)> {
    let decoded = BASE64.decode(response).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let mut parts = text.split('\0');
    let _authzid = parts.next()?;
    let user = parts.next()?.to_owned();
    let password = parts.next()?.to_owned();
    Some((user, password))
}

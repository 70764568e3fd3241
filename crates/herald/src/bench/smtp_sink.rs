//! A minimal SMTP server on loopback for `bench render --smtp`: it takes every message
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and counts them, so the benchmark measures
//! Herald's side of the hand-off, not a mail server's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub struct Sink {
    pub port: u16,
    pub received: Arc<AtomicUsize>,
}

pub async fn start() -> anyhow::Result<Sink> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let received = Arc::new(AtomicUsize::new(0));
    let count = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read);
                if write.write_all(b"220 sink ESMTP\r\n").await.is_err() {
                    return;
                }
                // Bytes, one buffer for the connection: the sink should cost the benchmark as
                // little as it can (a mail server runs elsewhere).
                let mut line: Vec<u8> = Vec::with_capacity(1024);
                let mut in_data = false;
                loop {
                    line.clear();
                    match lines.read_until(b'\n', &mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let reply: &[u8] = if in_data {
                        if line != b".\r\n" {
                            continue;
                        }
                        in_data = false;
                        count.fetch_add(1, Ordering::Relaxed);
                        b"250 2.0.0 queued\r\n"
                    } else {
                        match line.get(..4).map(<[u8]>::to_ascii_uppercase).as_deref() {
                            Some(b"EHLO") => b"250-sink\r\n250 8BITMIME\r\n",
                            Some(b"DATA") => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            Some(b"QUIT") => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 OK\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(Sink { port, received })
}

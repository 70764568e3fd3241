//! The HTTP endpoint: Herald's own accept loop around hyper's HTTP/1 connections, so that a
//! public endpoint holds against clients that are slow or idle on purpose (axum::serve has no
//! timeouts and no connection cap).
//!
//! - **Connection cap.** At most `max_connections` connections are served at once (each holds
//!   a slot of a semaphore until it closes; the socket holds it, so a connection upgraded to a
//!   WebSocket keeps its slot until the WebSocket closes). One more is answered, not dropped: a `503` with
//!   `Retry-After: 1` and the JSON body `{"code": "too_many_connections", ...}`, then closed.
//!   Answering takes one of [`REFUSAL_SLOTS`] short-lived slots (at most [`REFUSAL_TIME`]
//!   each); past those, the connection is closed at once.
//! - **Header timeout.** A request's head (request line and headers) must arrive within
//!   `header_timeout` of its first byte (of the accept, for a connection's first request);
//!   otherwise the connection is closed.
//! - **Body timeout.** A request's whole body must arrive within `body_timeout` of its head,
//!   however it trickles: otherwise the answer is a `408` `body_timeout` (JSON) and the
//!   connection is closed.
//! - **Idle timeout.** A keep-alive connection with no request in flight and no byte of a
//!   next request for `idle_timeout` is closed.
//!
//! A per-connection watchdog enforces the header and idle timeouts from what the connection
//! saw ([`Activity`]): bytes read (by a wrapper around the socket), requests started and
//! responses finished (by a wrapper around the service). hyper's own `header_read_timeout` is
//! not used: it also runs while a keep-alive connection waits for its next request, so the
//! idle timeout could not be longer than the header timeout.
//!
//! Graceful shutdown: the listener is closed, connections with a request in flight finish it
//! (hyper's graceful shutdown: the answer is written, then the connection closes), the others
//! are closed at once, and [`serve`] returns when every connection has ended.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use bytes::Bytes;
use herald_api::error::ApiError;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// The endpoint's limits (`herald serve --header-timeout-secs` and the others).
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// Connections over the cap that can be answered at once; more are closed unanswered.
pub const REFUSAL_SLOTS: usize = 64;
/// How long answering a connection over the cap may take at most.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serve `app` on `listener` until `signal` completes, then shut down gracefully.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    signal: impl Future<Output = ()> + Send,
) {
    let limits = Arc::new(limits);
    let max = limits.max_connections.clamp(1, u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(max));
    let refusals = Arc::new(Semaphore::new(REFUSAL_SLOTS));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut signal = pin!(signal);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                tokio::spawn(connection(
                    stream,
                    app.clone(),
                    limits.clone(),
                    stop_rx.clone(),
                    slot,
                ));
            }
            Err(_) => {
                metrics::counter!("herald_http_connections_refused_total").increment(1);
                if let Ok(slot) = refusals.clone().try_acquire_owned() {
                    tokio::spawn(refuse(stream, slot));
                }
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot until it has ended.
    let _ = slots.acquire_many(max as u32).await;
}

async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    // Out of file descriptors (EMFILE) despite the cap: wait for some to close.
    tracing::error!(error = %e, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// The answer to a connection over the cap.
fn refusal() -> Vec<u8> {
    let body = serde_json::json!({
        "code": "too_many_connections",
        "message": "the server is at its connection limit; retry after the Retry-After delay",
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answer a connection over the cap with a 503 and close it. The request head is read first
/// (if it comes within the time allowed) and the rest drained after the answer, so that
/// closing does not reset the connection before the client has read the answer.
async fn refuse(mut stream: TcpStream, _slot: OwnedSemaphorePermit) {
    let _ = tokio::time::timeout(REFUSAL_TIME, async {
        let mut buf = [0u8; 4096];
        let mut head = Vec::new();
        let _ = tokio::time::timeout(REFUSAL_TIME / 4, async {
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        stream.write_all(&refusal()).await?;
        stream.shutdown().await?;
        while stream.read(&mut buf).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}

/// Why the watchdog ended a connection.
#[derive(Debug, Clone, Copy)]
enum Expiry {
    Header,
    Idle,
}

/// What a connection is doing, for its watchdog. Times are milliseconds since `epoch`.
struct Activity {
    epoch: Instant,
    /// Requests whose response has not been written (or dropped) yet.
    in_flight: AtomicUsize,
    /// When the connection last had no request in flight.
    idle_since: AtomicU64,
    /// One more than when the first byte of the next request head arrived while no request
    /// was in flight (the accept, for the first request); 0 when none has.
    head_since: AtomicU64,
    /// Wakes the watchdog when the deadline may have moved.
    wake: Notify,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            epoch: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            // The first request's head is timed from the accept.
            head_since: AtomicU64::new(1),
            wake: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn read_some(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.head_since.load(Ordering::Acquire) == 0
            && self
                .head_since
                .compare_exchange(0, self.now() + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.wake.notify_one();
        }
    }

    fn started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_since.store(0, Ordering::Release);
        InFlight(self.clone())
    }

    /// When the connection expires, and why; `None` while a request is in flight.
    fn deadline(&self, limits: &Limits) -> Option<(Instant, Expiry)> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let at = |ms: u64, after: Duration| self.epoch + Duration::from_millis(ms) + after;
        Some(match self.head_since.load(Ordering::Acquire) {
            0 => (
                at(self.idle_since.load(Ordering::Acquire), limits.idle_timeout),
                Expiry::Idle,
            ),
            head => (at(head - 1, limits.header_timeout), Expiry::Header),
        })
    }
}

/// A request in flight; dropped with its response body (written or abandoned).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        activity.idle_since.store(activity.now(), Ordering::Release);
        if activity.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            activity.head_since.store(0, Ordering::Release);
        }
        activity.wake.notify_one();
    }
}

/// Close the connection when its header or idle deadline passes.
async fn watchdog(activity: &Activity, limits: &Limits) -> Expiry {
    loop {
        let woken = activity.wake.notified();
        let deadline = activity.deadline(limits);
        if let Some((at, why)) = deadline {
            if Instant::now() >= at {
                return why;
            }
        }
        let until = deadline.map(|(at, _)| tokio::time::Instant::from_std(at));
        tokio::select! {
            () = woken => {}
            () = sleep_until(until) => {}
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn connection(
    stream: TcpStream,
    app: Router,
    limits: Arc<Limits>,
    stop: watch::Receiver<bool>,
    slot: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
        _held: (slot, Open::new()),
    });
    let service = {
        let activity = activity.clone();
        let body_timeout = limits.body_timeout;
        hyper::service::service_fn(move |request| {
            handle(app.clone(), activity.clone(), body_timeout, request)
        })
    };
    let mut conn = pin!(hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(io, service)
        // A WebSocket (GraphQL subscriptions) leaves this loop once upgraded: hyper hands the
        // socket to the handler, which owns its lifetime (and its keep-alive) from then on.
        .with_upgrades());
    let mut watchdog = pin!(watchdog(&activity, &limits));
    let mut stop = stop;
    let mut stopping = false;
    loop {
        tokio::select! {
            // The connection first: a request whose bytes arrived before shutdown began is
            // read (and so answered) before the graceful shutdown would close an idle
            // connection.
            biased;
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            why = &mut watchdog => {
                let reason = match why {
                    Expiry::Header => "header",
                    Expiry::Idle => "idle",
                };
                metrics::counter!("herald_http_connection_timeouts_total", "reason" => reason)
                    .increment(1);
                tracing::debug!(reason, "connection timed out; closed");
                break;
            }
            // hyper's graceful shutdown: a request in flight is answered, then the
            // connection closes; an idle one (or one still sending a head) closes now.
            _ = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The open-connections gauge, for as long as a connection is served.
struct Open;

impl Open {
    fn new() -> Open {
        metrics::gauge!("herald_http_connections_open").increment(1.0);
        Open
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        metrics::gauge!("herald_http_connections_open").decrement(1.0);
    }
}

async fn handle(
    app: Router,
    activity: Arc<Activity>,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let in_flight = activity.started();
    let timed_out = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| Body::new(Deadline::new(body, body_timeout, &timed_out)));
    let mut response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
    if timed_out.load(Ordering::Acquire) {
        // Whatever the handler made of the failed read, the answer is the timeout.
        metrics::counter!("herald_http_connection_timeouts_total", "reason" => "body").increment(1);
        response = ApiError::Rejected(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body did not arrive within {} s",
                body_timeout.as_secs_f64()
            ),
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(response.map(|body| {
        Body::new(Finished {
            inner: body,
            _in_flight: in_flight,
        })
    }))
}

/// The request body, which fails once `body_timeout` has passed since the request head.
struct Deadline {
    inner: Incoming,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

impl Deadline {
    fn new(inner: Incoming, after: Duration, timed_out: &Arc<AtomicBool>) -> Deadline {
        let sleep = (!inner.is_end_stream()).then(|| Box::pin(tokio::time::sleep(after)));
        Deadline {
            inner,
            sleep,
            timed_out: timed_out.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.timed_out.load(Ordering::Acquire) {
            return Poll::Ready(Some(Err(BodyTimedOut.into())));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if frame.is_none() {
                    this.sleep = None;
                }
                Poll::Ready(frame.map(|f| f.map_err(BoxError::from)))
            }
            Poll::Pending => {
                let expired = this
                    .sleep
                    .as_mut()
                    .is_some_and(|sleep| sleep.as_mut().poll(cx).is_ready());
                if !expired {
                    return Poll::Pending;
                }
                this.sleep = None;
                this.timed_out.store(true, Ordering::Release);
                Poll::Ready(Some(Err(BodyTimedOut.into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that marks its request finished when it is dropped (written or not).
struct Finished {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for Finished {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, telling its connection's [`Activity`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
    /// The connection's slot under the cap and its place in the open-connections gauge, for
    /// as long as the socket lives: after an upgrade, the WebSocket owns it.
    _held: (OwnedSemaphorePermit, Open),
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.read_some();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The default connection cap: the process's open-file limit less [`FD_HEADROOM`] (the files
/// SQLite, the bus and the process keep open, and the [`REFUSAL_SLOTS`] that answer
/// connections over the cap), at least 32 and at most 65,536 (beyond, memory bounds more than
/// descriptors do); 2,048 when the limit cannot be read.
pub fn default_max_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 2048;
    }
    let soft = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
    soft.saturating_sub(FD_HEADROOM).clamp(32, 65_536)
}

/// File descriptors kept out of the connection cap.
pub const FD_HEADROOM: usize = 256;

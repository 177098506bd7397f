//! The HTTP server FC talks to: accepting connections, bounding what each may hold, stopping.
//!
//! Every connection is registered with [`Connections`], which knows whether a request is in
//! flight on it, since when it has been idle and since when it has been sending a request head.
//! A reaper task closes connections past their timeouts; at the connection cap the accept loop
//! closes the connection doing the least to make room. Neither ever closes a connection with a
//! request in flight: the close is decided on the connection's own task, between two polls of
//! hyper, so no request can start in between. The exceptions are requests that can no longer
//! make progress: a request body the client stopped sending, an answer the client stopped
//! reading (each past its timeout), and at the cap a request still arriving; such a request is
//! dropped with its connection before its handler ran (or after its answer was ready), and
//! still writes its End line.
//!
//! Memory is bounded per connection (a request head fits in [`MAX_HEAD_BYTES`]) and for request
//! bodies in all (see [`Settings::body_memory_bytes`]).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, HeaderValue, Request};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::app::Respond;

/// The most of a refused request body (413, or any answer given before the body was read) that
/// is read and thrown away after the answer, so that a client still sending it can finish and
/// read the answer instead of being reset: twice FC's 32 MiB invocation limit.
const DISCARD_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

/// The largest request head (request line and headers) and hyper's read and write buffer per
/// connection: 32 KiB. FC refuses an HTTP-trigger request whose headers exceed 8 KB or whose
/// path and query exceed 4 KB ("HTTP trigger" limits, shared/FC_PLATFORM.md), and adds its own
/// `x-fc-*` headers (ids, names and, with a role, STS credentials: a few KB; their largest size
/// is not documented); an event invocation's head is only those. 32 KiB is twice that sum, so
/// no request FC delivers is cut (hyper answers a larger head 431), and 512 connections hold at
/// most 16 MiB of heads instead of hyper's default 400 KB each (200 MB for 500 stalled heads).
pub(crate) const MAX_HEAD_BYTES: usize = 32 * 1024;

/// Request bodies up to this size are read without a share of the body memory: they fit in the
/// connection's buffer, bounded with the connections. So small invocations are never held up
/// behind large bodies.
const UNRESERVED_BODY_BYTES: u64 = MAX_HEAD_BYTES as u64;

/// How long the rest of a refused body is read and thrown away at most.
const DISCARD_TIMEOUT: Duration = Duration::from_secs(5);

/// A reaper tick that comes this much later than asked means the process was not running
/// (FC freezes an instance between invocations): that time is not counted as idle time.
const FREEZE_THRESHOLD: Duration = Duration::from_secs(1);

/// The bounds [`serve`] enforces; see the [`Runtime`](crate::Runtime) methods of the same names.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) header_read_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_timeout: Duration,
    /// How long a request body may wait for the client's next byte.
    pub(crate) body_read_timeout: Duration,
    /// How long an answer may wait for the client to take the next byte.
    pub(crate) write_timeout: Duration,
    /// The most memory the request bodies being read may take in all (each body over
    /// [`UNRESERVED_BODY_BYTES`] takes its declared length, or the body limit when it declares
    /// none, before it is read; the others wait for their share).
    pub(crate) body_memory_bytes: usize,
    /// The largest request body accepted ([`Runtime::max_body_bytes`](crate::Runtime)).
    pub(crate) max_body_bytes: usize,
}

/// Accepts connections (each served on its own task, HTTP/1.1 keep-alive) until `shutdown`
/// completes, then closes idle connections and waits up to the shutdown timeout for the
/// requests in flight.
pub(crate) async fn serve<A: Respond>(
    listener: TcpListener,
    app: A,
    shutdown: impl Future<Output = ()>,
    settings: Settings,
) {
    let app = Arc::new(app);
    let connections = Arc::new(Connections::new(settings));
    let graceful = GracefulShutdown::new();
    let reaper = tokio::spawn(reap(Arc::clone(&connections)));
    let mut full = false;
    tokio::pin!(shutdown);
    'accept: loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    log::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // At the cap: close a connection without a request in flight (a stalled request head
        // first, then the longest idle) and take its place; when every connection has a request
        // in flight, wait for one to end.
        while connections.len() >= settings.max_connections {
            if !full {
                full = true;
                log::warn!(
                    "{} connections open, the most allowed: closing idle ones to make room",
                    settings.max_connections
                );
            }
            if let Some(victim) = connections.victim() {
                victim.close.notify_one();
            }
            tokio::select! {
                () = connections.room.notified() => {}
                () = &mut shutdown => break 'accept,
            }
        }
        if full && connections.len() + 1 < settings.max_connections {
            full = false;
        }
        A::spawn(&app, stream, &connections, &graceful);
    }
    drop(listener);
    log::info!("shutting down: waiting for in-flight invocations");
    connections.close_idle();
    let grace = settings.shutdown_timeout;
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        log::warn!(
            "in-flight invocations did not finish within {} ms",
            grace.as_millis()
        );
    }
    reaper.abort();
}

/// Serves one connection on its own task until it ends or is asked to close while idle.
pub(crate) fn spawn_connection<A: Respond>(
    stream: TcpStream,
    app: &Arc<A>,
    connections: &Arc<Connections>,
    graceful: &GracefulShutdown,
) {
    let registration = connections.register();
    let connection = Arc::clone(&registration.connection);
    let service = {
        let app = Arc::clone(app);
        let connections = Arc::clone(connections);
        let connection = Arc::clone(&connection);
        service_fn(move |request: Request<Incoming>| {
            let busy = Busy::start(&connections, &connection, request.body().is_end_stream());
            let request = request.map(|body| RequestBody {
                body: Some(body),
                busy: Some(Arc::clone(&busy)),
                finished: false,
                share: Share::Unasked,
            });
            let app = Arc::clone(&app);
            async move {
                let mut response = app.respond(request).await;
                if busy.unread.load(Ordering::Acquire) {
                    // The rest of the body is being thrown away: the connection carries no
                    // further request, and the client learns it from the answer.
                    response
                        .headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(response.map(|body| ResponseBody { body, _busy: busy }))
            }
        })
    };
    let io = TokioIo::new(Watched {
        stream,
        connection: Arc::clone(&connection),
        connections: Arc::clone(connections),
    });
    // No hyper timer and so no hyper `header_read_timeout`: hyper's runs from the moment a
    // connection waits for a request, idle keep-alive time included, and counts time the
    // instance spent frozen, so it would close FC's pooled connections under its next request.
    //
    // `half_close`: a client that shuts down its sending side after its request (as `curl` and
    // many HTTP libraries may) still gets its answer; hyper does not read while a handler runs,
    // so the handler is not cancelled by the client's end of input either.
    let served = graceful.watch(
        http1::Builder::new()
            .keep_alive(true)
            .half_close(true)
            .max_buf_size(MAX_HEAD_BYTES)
            .serve_connection(io, service),
    );
    tokio::spawn(async move {
        let _registration = registration;
        tokio::pin!(served);
        loop {
            tokio::select! {
                result = &mut served => {
                    if let Err(error) = result {
                        log::debug!("connection closed with an error: {error}");
                    }
                    break;
                }
                () = connection.close.notified() => {
                    // Checked on this task, between two polls of the connection: no request
                    // can start between the check and the close.
                    if connection.stalled.load(Ordering::Acquire)
                        || connection.in_flight.load(Ordering::Acquire) == 0
                    {
                        break;
                    }
                }
            }
        }
    });
}

/// Closes connections past their timeouts, once a tick, and keeps time the process spent
/// frozen out of the clock.
async fn reap(connections: Arc<Connections>) {
    let settings = connections.settings;
    let tick = (settings.header_read_timeout.min(settings.idle_timeout))
        .min(settings.body_read_timeout.min(settings.write_timeout))
        .checked_div(4)
        .unwrap_or_default()
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut last = Instant::now();
    loop {
        tokio::time::sleep(tick).await;
        let now = Instant::now();
        let frozen = frozen_for(tick, now.saturating_duration_since(last));
        if !frozen.is_zero() {
            log::debug!(
                "not counting {} ms the process did not run as idle time",
                frozen.as_millis()
            );
            connections.clock.skip(frozen);
        }
        last = now;
        connections.expire();
    }
}

/// How long the process was stopped (frozen) when a tick of `tick` took `waited`: nothing when
/// it was merely late by less than [`FREEZE_THRESHOLD`] (a busy or CPU-starved instance).
pub(crate) fn frozen_for(tick: Duration, waited: Duration) -> Duration {
    if waited > tick + FREEZE_THRESHOLD {
        waited - tick
    } else {
        Duration::ZERO
    }
}

/// Milliseconds since the server started, without the time the process was frozen.
pub(crate) struct Clock {
    started: Instant,
    frozen_ms: AtomicU64,
}

impl Clock {
    fn now(&self) -> u64 {
        millis(self.started.elapsed()).saturating_sub(self.frozen_ms.load(Ordering::Relaxed))
    }

    pub(crate) fn skip(&self, frozen: Duration) {
        self.frozen_ms.fetch_add(millis(frozen), Ordering::Relaxed);
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// What the server knows about one open connection.
pub(crate) struct Connection {
    /// Requests on it whose answer or request body is not done yet.
    in_flight: AtomicUsize,
    /// [`Clock`] time plus one of the first byte of a request not received whole yet (its head,
    /// then its body); 0: none.
    head_started: AtomicU64,
    /// [`Clock`] time plus one since a request body has waited for the client's next byte; 0:
    /// it is not waiting.
    body_waiting: AtomicU64,
    /// [`Clock`] time plus one since an answer has waited for the client to take more; 0: it
    /// is not waiting.
    write_waiting: AtomicU64,
    /// The connection is to close even with a request in flight: that request cannot go on.
    stalled: AtomicBool,
    /// The body memory share of a request whose answer hyper has taken but not written out
    /// yet: the answer holds as much memory as its body did, and a client that does not read
    /// it must not let the next large body in meanwhile. Given back at the next flush.
    answer_share: Mutex<Option<OwnedSemaphorePermit>>,
    /// [`Clock`] time the connection opened or its last request ended.
    idle_since: AtomicU64,
    /// Asks the connection's task to close it, which it does only with no request in flight.
    pub(crate) close: Notify,
}

/// The open connections.
pub(crate) struct Connections {
    settings: Settings,
    pub(crate) clock: Clock,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
    /// Signalled when a connection closes or a request ends: there may be room for another.
    room: Notify,
    /// The body memory ([`Settings::body_memory_bytes`]), in KiB.
    body_memory: Arc<Semaphore>,
}

impl Connections {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            settings,
            clock: Clock {
                started: Instant::now(),
                frozen_ms: AtomicU64::new(0),
            },
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            room: Notify::new(),
            body_memory: Arc::new(Semaphore::new(kib(settings.body_memory_bytes as u64))),
        }
    }

    /// The map of open connections; a panic elsewhere while it was held leaves it usable.
    fn open(&self) -> MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn len(&self) -> usize {
        self.open().len()
    }

    pub(crate) fn register(self: &Arc<Self>) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            in_flight: AtomicUsize::new(0),
            head_started: AtomicU64::new(0),
            body_waiting: AtomicU64::new(0),
            write_waiting: AtomicU64::new(0),
            stalled: AtomicBool::new(false),
            answer_share: Mutex::new(None),
            idle_since: AtomicU64::new(self.clock.now()),
            close: Notify::new(),
        });
        self.open().insert(id, Arc::clone(&connection));
        Registration {
            id,
            connections: Arc::clone(self),
            connection,
        }
    }

    /// The connection to close for a new one: of those still receiving a request (its head or
    /// its body: no handler has its whole request yet), the one that started longest ago; else,
    /// without a request in flight, the one idle longest. A request still arriving is marked
    /// stalled, so its connection closes with it.
    fn victim(&self) -> Option<Arc<Connection>> {
        let victim = self
            .open()
            .values()
            .filter(|connection| {
                connection.in_flight.load(Ordering::Acquire) == 0
                    || connection.head_started.load(Ordering::Relaxed) != 0
            })
            .min_by_key(
                |connection| match connection.head_started.load(Ordering::Relaxed) {
                    0 => (1, connection.idle_since.load(Ordering::Relaxed)),
                    started => (0, started),
                },
            )
            .cloned()?;
        if victim.in_flight.load(Ordering::Acquire) > 0 {
            victim.stalled.store(true, Ordering::Release);
        }
        Some(victim)
    }

    /// Asks connections past the header-read or the idle timeout to close, and those whose
    /// request body or answer has waited for the client past its timeout.
    pub(crate) fn expire(&self) {
        let now = self.clock.now();
        let header_read_timeout = millis(self.settings.header_read_timeout);
        let idle_timeout = millis(self.settings.idle_timeout);
        let body_read_timeout = millis(self.settings.body_read_timeout);
        let write_timeout = millis(self.settings.write_timeout);
        let past = |since: &AtomicU64, timeout| match since.load(Ordering::Relaxed) {
            0 => false,
            since => now.saturating_sub(since - 1) >= timeout,
        };
        for connection in self.open().values() {
            if past(&connection.body_waiting, body_read_timeout)
                || past(&connection.write_waiting, write_timeout)
            {
                connection.stalled.store(true, Ordering::Release);
                connection.close.notify_one();
                continue;
            }
            if connection.in_flight.load(Ordering::Acquire) > 0 {
                continue;
            }
            let expired = match connection.head_started.load(Ordering::Relaxed) {
                0 => {
                    let idle_since = connection.idle_since.load(Ordering::Relaxed);
                    now.saturating_sub(idle_since) >= idle_timeout
                }
                started => now.saturating_sub(started - 1) >= header_read_timeout,
            };
            if expired {
                connection.close.notify_one();
            }
        }
    }

    /// Asks every connection without a request in flight to close (at shutdown).
    fn close_idle(&self) {
        for connection in self.open().values() {
            connection.close.notify_one();
        }
    }
}

/// A connection's entry in [`Connections`], removed when the connection's task ends.
pub(crate) struct Registration {
    id: u64,
    connections: Arc<Connections>,
    pub(crate) connection: Arc<Connection>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.connections.open().remove(&self.id);
        self.connections.room.notify_one();
    }
}

/// One request in flight, from its complete head until both its answer has been handed to
/// hyper and its body has been read or thrown away.
struct Busy {
    connections: Arc<Connections>,
    connection: Arc<Connection>,
    /// The app answered before reading the whole body, which is being thrown away.
    unread: AtomicBool,
    /// The request body's share of the body memory, held until the request ends (the handler
    /// holds the body that long).
    share: Mutex<Option<OwnedSemaphorePermit>>,
}

impl Busy {
    /// A request whose head is complete; `no_body`: it has no body to receive either.
    fn start(
        connections: &Arc<Connections>,
        connection: &Arc<Connection>,
        no_body: bool,
    ) -> Arc<Self> {
        connection.in_flight.fetch_add(1, Ordering::AcqRel);
        if no_body {
            connection.head_started.store(0, Ordering::Relaxed);
        }
        Arc::new(Self {
            connections: Arc::clone(connections),
            connection: Arc::clone(connection),
            unread: AtomicBool::new(false),
            share: Mutex::new(None),
        })
    }

    /// The request body has been received whole (or will not be read any further).
    fn received(&self) {
        self.connection.head_started.store(0, Ordering::Relaxed);
        self.connection.body_waiting.store(0, Ordering::Relaxed);
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.received();
        if let Some(share) = lock(&self.share).take() {
            *lock(&self.connection.answer_share) = Some(share);
        }
        let now = self.connections.clock.now();
        self.connection.idle_since.store(now, Ordering::Relaxed);
        self.connection.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.connections.room.notify_one();
    }
}

/// The socket, noting when a request head starts arriving on an otherwise idle connection.
struct Watched {
    stream: TcpStream,
    connection: Arc<Connection>,
    connections: Arc<Connections>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if buf.filled().len() > before && this.connection.in_flight.load(Ordering::Acquire) == 0 {
            let now = this.connections.clock.now();
            let _ = this.connection.head_started.compare_exchange(
                0,
                now.saturating_add(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        polled
    }
}

impl Watched {
    /// Notes whether a write is waiting for the client to take more (a full socket buffer).
    fn note_write(&self, waiting: bool) {
        let since = &self.connection.write_waiting;
        if !waiting {
            since.store(0, Ordering::Relaxed);
        } else if since.load(Ordering::Relaxed) == 0 {
            since.store(self.connections.clock.now() + 1, Ordering::Relaxed);
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.note_write(polled.is_pending());
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.note_write(polled.is_pending());
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    /// hyper flushes once it has written all it had: an answer is out.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_flush(cx);
        if polled.is_ready() {
            drop(lock(&this.connection.answer_share).take());
        }
        polled
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// An answer, keeping its request counted as in flight until hyper has taken all of it.
struct ResponseBody<B> {
    body: B,
    _busy: Arc<Busy>,
}

impl<B: Body<Data = Bytes> + Unpin> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body that, dropped before its end (the app answered without reading it all, as
/// for a 413), reads and throws away the rest on a task of its own, up to
/// [`DISCARD_LIMIT_BYTES`] and [`DISCARD_TIMEOUT`]. Closing a socket with unread data makes the
/// kernel reset the connection, and a client still writing the body then gets a broken pipe
/// instead of the answer.
struct RequestBody {
    body: Option<Incoming>,
    busy: Option<Arc<Busy>>,
    finished: bool,
    share: Share,
}

/// Where a request body stands with its share of the body memory.
enum Share {
    /// Not asked for yet: the body has not been polled.
    Unasked,
    /// Waiting for other bodies to end.
    Waiting(Pin<Box<dyn Future<Output = Option<OwnedSemaphorePermit>> + Send>>),
    /// Held (in [`Busy`]), or not needed.
    Granted,
}

impl RequestBody {
    /// Takes the body's share of the body memory: its declared length (or the body limit when
    /// it declares none), nothing for a small body. Pending while other bodies hold the memory.
    fn poll_share(&mut self, cx: &mut TaskContext<'_>) -> Poll<()> {
        let Some(busy) = self.busy.as_ref() else {
            return Poll::Ready(());
        };
        if let Share::Unasked = self.share {
            let settings = &busy.connections.settings;
            let hint = self.body.as_ref().map(Body::size_hint);
            let declared = hint.and_then(|hint| hint.upper()).unwrap_or(u64::MAX);
            let limit = settings.max_body_bytes as u64;
            let bytes = declared.min(limit).min(settings.body_memory_bytes as u64);
            if bytes <= UNRESERVED_BODY_BYTES {
                self.share = Share::Granted;
                return Poll::Ready(());
            }
            let memory = Arc::clone(&busy.connections.body_memory);
            let permits = u32::try_from(kib(bytes)).unwrap_or(u32::MAX);
            self.share = match Arc::clone(&memory).try_acquire_many_owned(permits) {
                Ok(permit) => {
                    *lock(&busy.share) = Some(permit);
                    Share::Granted
                }
                Err(_) => Share::Waiting(Box::pin(async move {
                    memory.acquire_many_owned(permits).await.ok()
                })),
            };
        }
        if let Share::Waiting(waiting) = &mut self.share {
            let permit = std::task::ready!(waiting.as_mut().poll(cx));
            *lock(&busy.share) = permit;
            self.share = Share::Granted;
        }
        Poll::Ready(())
    }
}

/// A mutex's guard, poisoned or not (nothing held under these locks can be left half-done).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `bytes` in KiB, rounded up: the body memory's unit.
fn kib(bytes: u64) -> usize {
    usize::try_from(bytes.div_ceil(1024)).unwrap_or(usize::MAX)
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_share(cx));
        let Some(body) = this.body.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(body).poll_frame(cx);
        if let Some(busy) = &this.busy {
            let waiting = &busy.connection.body_waiting;
            match &polled {
                Poll::Pending => {
                    if waiting.load(Ordering::Relaxed) == 0 {
                        let now = busy.connections.clock.now();
                        waiting.store(now + 1, Ordering::Relaxed);
                    }
                }
                Poll::Ready(Some(Ok(_))) => waiting.store(0, Ordering::Relaxed),
                Poll::Ready(None | Some(Err(_))) => busy.received(),
            }
        }
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            this.finished = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.as_ref().map_or(true, Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.body
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        if let Some(busy) = &self.busy {
            // Nobody waits for the body any more: its silence is no stall (what is left of it
            // is thrown away within the discard bounds).
            busy.connection.body_waiting.store(0, Ordering::Relaxed);
        }
        let Some(body) = self.body.take() else {
            return;
        };
        if self.finished || body.is_end_stream() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let busy = self.busy.take();
        if let Some(busy) = &busy {
            busy.unread.store(true, Ordering::Release);
        }
        runtime.spawn(discard(body, busy));
    }
}

/// Reads and drops the rest of `body`, within the discard bounds; the request stays in flight
/// (the connection open) meanwhile.
async fn discard(mut body: Incoming, busy: Option<Arc<Busy>>) {
    let _busy = busy;
    let mut allowance = DISCARD_LIMIT_BYTES;
    let read = async {
        while let Some(Ok(frame)) = body.frame().await {
            let size = frame
                .data_ref()
                .map_or(0, |data| u64::try_from(data.len()).unwrap_or(u64::MAX));
            match allowance.checked_sub(size) {
                Some(left) => allowance = left,
                None => break,
            }
        }
    };
    if tokio::time::timeout(DISCARD_TIMEOUT, read).await.is_err() {
        log::debug!(
            "stopped discarding a refused request body after {} ms",
            DISCARD_TIMEOUT.as_millis()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Runtime;

    /// Kills `delete !` in `reap` (the frozen time skipped only when there is none): a reaper
    /// tick that comes more than a second late keeps that time off the clock.
    #[tokio::test(flavor = "current_thread")]
    async fn a_tick_after_a_freeze_keeps_the_frozen_time_off_the_clock() {
        let settings = Runtime::new()
            .idle_timeout(Duration::from_millis(40))
            .settings();
        let connections = Arc::new(Connections::new(settings));
        let reaper = reap(Arc::clone(&connections));
        tokio::pin!(reaper);
        let skipped = || connections.clock.frozen_ms.load(Ordering::Relaxed);
        let frozen = async {
            // The reaper has noted the time and waits for its 10 ms tick (it is polled first);
            // then the process stops: this thread blocks, as a frozen instance does not run.
            std::thread::sleep(Duration::from_millis(1500));
            tokio::time::timeout(Duration::from_secs(5), async {
                while skipped() == 0 {
                    tokio::task::yield_now().await;
                }
            })
            .await
        };
        tokio::select! {
            biased;
            () = &mut reaper => unreachable!("the reaper runs forever"),
            waited = frozen => waited.expect("the reaper's next tick skipped the frozen time"),
        }
        assert!(skipped() >= 1000, "skipped {} ms", skipped());
    }
}

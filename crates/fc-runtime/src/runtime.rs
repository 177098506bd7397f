//! The runtime builder and the HTTP server FC talks to.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::TcpListener;

use crate::app::{App, HookFn, InvokeFn, Respond, DEFAULT_MAX_BODY_BYTES};
use crate::context::Environment;
use crate::event::{decode, encode};
use crate::server::{serve, Settings};
use crate::{logger, Context, Diagnostic, Error, Event};
#[cfg(feature = "http")]
use {
    crate::http_trigger::{HttpApp, HttpService},
    bytes::Bytes,
};

/// How long shutdown (SIGTERM) waits for in-flight invocations by default: 3 s.
///
/// FC documents no delay between its SIGTERM and a SIGKILL, so this value is not taken from
/// FC. What FC does document: it sends SIGTERM to an instance only when a client cancelled a
/// request (<https://www.alibabacloud.com/help/en/function-compute/latest/container-instance-lifecycle>,
/// "Limits"), and after such a cancellation it replaces the instance
/// (<https://help.aliyun.com/en/functioncompute/fc/why-does-a-function-instance-restart-after-a-client-499>).
/// The work in flight then mostly answers a caller that is gone, and clean-up belongs in the
/// PreStop hook, which FC calls before it stops an instance and bounds with its own configured
/// timeout. So the grace is short: long enough for an invocation about to finish, and well
/// inside the 5 s the local emulator allows (`STOP_GRACE_S` in `infra/local/instance.py`, which
/// the `hello` tests hold this to) and Docker's default 10 s `docker stop` timeout.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a client may take to send a request head once it has sent its first byte: 10 s.
///
/// FC's front end writes a request head (the request line and a few KB of `x-fc-*` headers) in
/// one go, so a head still incomplete after 10 s comes from a stalled or hostile client, which
/// would otherwise hold its connection (and a file descriptor) forever. 10 s rather than 1 s
/// leaves room for an instance with a small CPU share (down to 0.05 vCPU) to be scheduled.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may stay open with no request in flight: 10 minutes.
///
/// FC keeps its connections to an instance alive and reuses them for later invocations. A
/// server that closes a pooled connection races the next request on it, and that request (a
/// POST, which HTTP clients do not replay) fails. FC reclaims an on-demand instance that has
/// served no request for two to five minutes
/// (<https://www.alibabacloud.com/help/en/functioncompute/fc-2-0/how-do-i-stop-an-instance-manually>,
/// <https://www.alibabacloud.com/help/en/functioncompute/how-to-stop-an-instance>), so with
/// 10 minutes FC's connections end with the instance, not with this timeout. Time the
/// instance spends frozen between invocations is not counted: a provisioned instance frozen
/// for an hour keeps its connections. The timeout exists for other clients: a connection that
/// never sends anything is closed in the end.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// The most connections served at once by default, when the open-file limit allows: 512.
///
/// FC runs at most 200 concurrent invocations on one instance (instance concurrency 1-200), one
/// connection each; 512 leaves room for FC's idle pooled connections on top.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// How long a request body may wait for the client's next byte: 10 s.
///
/// Counted only while the runtime is reading the body and no byte comes; a slow but steady
/// upload is never cut. FC forwards the body of an invocation in one go, as it does the head
/// (see [`DEFAULT_HEADER_READ_TIMEOUT`]; FC documents no pause in a body it sends, for an
/// HTTP-trigger request either, so this is not confirmed for one FC relays from a slow
/// client). A body that stops coming stalls no invocation: its connection is closed and its
/// memory freed.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an answer may wait for the client to take its next byte: 10 s.
///
/// Counted only while the socket refuses more bytes (a client that does not read); a slow but
/// steady reader is never cut. FC reads an instance's answers at once. A client that never
/// reads its answer would otherwise hold the answer's memory (up to FC's 32 MB) for good.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// FC's smallest and default instance memory, in MB, when `FC_FUNCTION_MEMORY_SIZE` is unset.
const DEFAULT_MEMORY_MB: u64 = 128;

/// The port FC uses when none is configured.
const DEFAULT_PORT: u16 = 9000;

/// Configures the optional parts of the runtime, then runs a handler.
///
/// ```no_run
/// use fc_runtime::{Context, Event, Runtime};
///
/// async fn handler(event: Event<serde_json::Value>) -> Result<serde_json::Value, String> {
///     Ok(event.payload)
/// }
///
/// async fn warm_up(_context: Context) -> Result<(), std::io::Error> {
///     Ok(())
/// }
///
/// # async fn start() -> Result<(), fc_runtime::Error> {
/// Runtime::new()
///     .initializer(warm_up)
///     .pre_stop(|context: Context| async move {
///         log::info!("instance of {:?} stops", context.function_name);
///         Ok::<(), String>(())
///     })
///     .max_body_bytes(1024 * 1024)
///     .run(handler)
///     .await
/// # }
/// ```
#[must_use]
pub struct Runtime {
    initializer: Option<Arc<HookFn>>,
    pre_stop: Option<Arc<HookFn>>,
    pre_freeze: Option<Arc<HookFn>>,
    max_body_bytes: usize,
    shutdown_timeout: Duration,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    max_connections: usize,
    body_read_timeout: Duration,
    write_timeout: Duration,
    body_memory_bytes: usize,
}

impl Default for Runtime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime {
    /// A runtime without hooks and with the default limits: a 32 MiB body, a 3 s shutdown
    /// grace period, a 10 s header-read timeout, a 10 minute idle timeout and the connection
    /// cap described at [`Runtime::max_connections`].
    pub fn new() -> Self {
        Self {
            initializer: None,
            pre_stop: None,
            pre_freeze: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: default_max_connections(process_limits().as_deref()),
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            body_memory_bytes: default_body_memory(
                std::env::var("FC_FUNCTION_MEMORY_SIZE").ok().as_deref(),
            ),
        }
    }

    /// Serves `POST /initialize`, which FC calls once per instance when the function has an
    /// initializer configured.
    pub fn initializer<H, Fut, E>(mut self, hook: H) -> Self
    where
        H: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Diagnostic>,
    {
        self.initializer = Some(erase_hook(hook));
        self
    }

    /// Serves `GET /pre-stop`, which FC calls before it reclaims the instance.
    pub fn pre_stop<H, Fut, E>(mut self, hook: H) -> Self
    where
        H: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Diagnostic>,
    {
        self.pre_stop = Some(erase_hook(hook));
        self
    }

    /// Serves `GET /pre-freeze` (FC 2.0), which FC calls before it freezes the instance.
    pub fn pre_freeze<H, Fut, E>(mut self, hook: H) -> Self
    where
        H: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<Diagnostic>,
    {
        self.pre_freeze = Some(erase_hook(hook));
        self
    }

    /// The largest request body accepted; larger ones get 413. Default: 32 MiB, FC's limit
    /// for synchronous invocations.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// How long shutdown (SIGTERM, Ctrl-C) waits for in-flight invocations before the runtime
    /// returns and abandons them. Default: [`DEFAULT_SHUTDOWN_TIMEOUT`] (3 s; why, there).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// How long a client may take to send a request head (request line and headers), counted
    /// from its first byte; then the connection is closed. Default:
    /// [`DEFAULT_HEADER_READ_TIMEOUT`] (10 s; why, there).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a connection may stay open with no request in flight (and no request head
    /// started); then it is closed. Time the instance spends frozen does not count. Default:
    /// [`DEFAULT_IDLE_TIMEOUT`] (10 minutes, longer than FC keeps an idle instance; why, there).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The most connections served at once (at least 1). A connection beyond it is accepted,
    /// and room is made by closing a connection with no request in flight: one that is still
    /// sending a request head (the oldest such), else the one idle longest. When every
    /// connection has a request in flight, the new one waits until a request ends.
    ///
    /// Why not refuse the new connection instead: then whoever holds the slots (clients that
    /// connect and stall) locks FC's own invocations out. Why not only wait: then invocations
    /// queue behind the stalled clients until their header-read timeouts expire. Closing a
    /// connection without a request in flight loses no work.
    ///
    /// Default: half the process's open-file limit (`RLIMIT_NOFILE`, leaving the other half to
    /// the handler's own sockets and files), at most [`DEFAULT_MAX_CONNECTIONS`] (512); 512 when
    /// the limit cannot be read. Past the open-file limit the runtime could accept nothing at
    /// all, FC's invocations included.
    pub fn max_connections(mut self, limit: usize) -> Self {
        self.max_connections = limit.max(1);
        self
    }

    /// How long a request body may wait for the client's next byte; then its connection is
    /// closed (its handler has not run). Default: [`DEFAULT_BODY_READ_TIMEOUT`] (10 s; why,
    /// there).
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// How long an answer may wait for the client to take its next byte; then its connection
    /// is closed. Default: [`DEFAULT_WRITE_TIMEOUT`] (10 s; why, there).
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// The most memory the request bodies being read may take together; a body that would go
    /// past it waits (its client's TCP window fills) until others end. Bodies of 32 KiB or less
    /// never wait. Never less than [`Runtime::max_body_bytes`], so that the largest accepted
    /// body is always read.
    ///
    /// Default: a quarter of the instance's memory (`FC_FUNCTION_MEMORY_SIZE`, in MB; 128 MB,
    /// FC's smallest, when unset), at least one body of FC's 32 MB: a 32 MiB body at a time on
    /// a 128 MB instance. The rest is the handler's, which commonly holds a body's data three
    /// times more (the decoded payload, the answer, the encoded answer). `make stress` measures
    /// hello's peak under clients sending 31 MiB names and never reading the answer: 98 MB on a
    /// 128 MB instance (271 MB with half the memory for bodies).
    pub fn max_body_memory(mut self, bytes: usize) -> Self {
        self.body_memory_bytes = bytes;
        self
    }

    /// The bounds the server enforces.
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            header_read_timeout: self.header_read_timeout,
            idle_timeout: self.idle_timeout,
            max_connections: self.max_connections,
            shutdown_timeout: self.shutdown_timeout,
            body_read_timeout: self.body_read_timeout,
            write_timeout: self.write_timeout,
            body_memory_bytes: self.body_memory_bytes.max(self.max_body_bytes),
            max_body_bytes: self.max_body_bytes,
        }
    }

    /// The function as a socket-free service, for tests: see [`App::handle`].
    pub fn app<F, Fut, T, R, E>(self, handler: F) -> App
    where
        F: Fn(Event<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        T: DeserializeOwned + Send + 'static,
        R: Serialize + 'static,
        E: Into<Diagnostic>,
    {
        let handler = Arc::new(handler);
        let invoke: Arc<InvokeFn> = Arc::new(move |body, context| {
            let handler = Arc::clone(&handler);
            Box::pin(async move {
                let payload = decode::<T>(body)?;
                match handler(Event { payload, context }).await {
                    Ok(response) => encode(response),
                    Err(error) => Err(Error::Handler(error.into())),
                }
            })
        });
        App {
            invoke,
            initializer: self.initializer,
            pre_stop: self.pre_stop,
            pre_freeze: self.pre_freeze,
            max_body_bytes: self.max_body_bytes,
            environment: Arc::new(Environment::from_process()),
        }
    }

    /// Installs the logger and the panic hook (one log line per panic), listens on
    /// `0.0.0.0:<port>` and serves `handler` until SIGTERM or Ctrl-C; then stops accepting,
    /// lets in-flight invocations finish (bounded by the shutdown timeout) and returns `Ok(())`.
    ///
    /// The port is `FC_CUSTOM_LISTEN_PORT`, else `FC_SERVER_PORT`, else 9000.
    ///
    /// # Errors
    /// [`Error::InvalidPort`] when a port variable is not a number, [`Error::Bind`] when the
    /// port cannot be opened.
    pub async fn run<F, Fut, T, R, E>(self, handler: F) -> Result<(), Error>
    where
        F: Fn(Event<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        T: DeserializeOwned + Send + 'static,
        R: Serialize + 'static,
        E: Into<Diagnostic>,
    {
        let settings = self.settings();
        listen(self.app(handler), settings).await
    }

    /// As [`Runtime::run`], and serves HTTP-trigger requests (`x-fc-control-path:
    /// /http-invoke`) with `service`: any tower `Service`, an axum `Router` above all. Events
    /// (`POST /invoke`) go to `handler`, the hooks as configured.
    ///
    /// The service gets the client's request as FC forwarded it, with the invocation's
    /// [`Context`] in its extensions and its body limited to [`Runtime::max_body_bytes`]
    /// (a larger declared `content-length` answers 413 without calling the service). Its
    /// response goes back as it produces it (a body of unknown length is sent chunked, which
    /// FC streams), without the headers FC reserves (`x-fc-*`, `connection`, `content-length`,
    /// `date`, `keep-alive`, `server`). A panic or an error of the service answers 500, and
    /// the instance keeps serving. Each request is logged between `FC Invoke Start` and
    /// `FC Invoke End` lines, the End line when the response body is done.
    ///
    /// # Errors
    /// As [`Runtime::run`].
    #[cfg(feature = "http")]
    pub async fn run_with<F, Fut, T, R, E, S>(self, handler: F, service: S) -> Result<(), Error>
    where
        F: Fn(Event<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
        T: DeserializeOwned + Send + 'static,
        R: Serialize + 'static,
        E: Into<Diagnostic>,
        S: HttpService,
    {
        let settings = self.settings();
        listen(HttpApp::new(self.app(handler), service), settings).await
    }

    /// As [`Runtime::run_with`] for a function that serves HTTP requests only: an event
    /// (`POST /invoke`) fails with `errorType` `NoEventHandler`.
    ///
    /// # Errors
    /// As [`Runtime::run`].
    #[cfg(feature = "http")]
    pub async fn run_http<S>(self, service: S) -> Result<(), Error>
    where
        S: HttpService,
    {
        self.run_with(no_event_handler, service).await
    }
}

/// Installs the logger and the panic hook, listens on `0.0.0.0:<port>` and serves `app` until
/// SIGTERM or Ctrl-C; see [`Runtime::run`].
async fn listen(app: impl Respond, settings: Settings) -> Result<(), Error> {
    logger::init();
    logger::install_panic_hook();
    let port = port_from(|name| std::env::var(name).ok())?;
    let address = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| Error::Bind { address, source })?;
    // Installed before the start line, so a SIGTERM right after it is a graceful stop too.
    let shutdown = shutdown_signal();
    log::info!("listening on {address}");
    serve(listener, app, shutdown, settings).await;
    // Lines still queued for stdout, within the shutdown grace: a stdout nobody reads does
    // not keep the process from ending.
    logger::flush(settings.shutdown_timeout);
    Ok(())
}

/// The event handler of a function that serves HTTP requests only.
#[cfg(feature = "http")]
async fn no_event_handler(_event: Event<Bytes>) -> Result<Bytes, Diagnostic> {
    Err(Diagnostic::new(
        "NoEventHandler",
        "this function serves HTTP requests only; it has no event handler for POST /invoke",
    ))
}

/// Serves `handler` with the default [`Runtime`]: no hooks, 32 MiB body limit.
///
/// The handler takes an [`Event<T>`] and returns `Result<R, E>`:
/// - `T` is `Bytes` or `Vec<u8>` for the raw body, [`TimerEvent`](crate::TimerEvent) for a
///   timer trigger, or any other `DeserializeOwned` type read from JSON (a bad body is refused
///   with `InvalidPayload` and the JSON path of the bad value, without calling the handler);
/// - `R` is `Bytes` or `Vec<u8>` for a raw answer, any other `Serialize` type for JSON;
/// - `E` is any `Display` error, or a [`Diagnostic`] to choose the `errorType` and attach details.
///
/// Success answers 200 with `x-fc-status: 200`; an error or a panic answers 404 with
/// `x-fc-status: 404` and `{"errorType": ..., "errorMessage": ...}`, and the server keeps serving.
///
/// ```no_run
/// use fc_runtime::Event;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Request { name: String }
///
/// #[derive(Serialize)]
/// struct Greeting { message: String }
///
/// async fn greet(event: Event<Request>) -> Result<Greeting, std::convert::Infallible> {
///     Ok(Greeting { message: format!("Hello, {}!", event.payload.name) })
/// }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> Result<(), fc_runtime::Error> {
///     fc_runtime::run(greet).await
/// }
/// ```
///
/// # Errors
/// As [`Runtime::run`].
pub async fn run<F, Fut, T, R, E>(handler: F) -> Result<(), Error>
where
    F: Fn(Event<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    T: DeserializeOwned + Send + 'static,
    R: Serialize + 'static,
    E: Into<Diagnostic>,
{
    Runtime::new().run(handler).await
}

/// Serves HTTP-trigger requests with `service` (an axum `Router`, or any tower `Service`) on
/// the default [`Runtime`]; see [`Runtime::run_with`] for what the runtime does around it.
///
/// ```no_run
/// use axum::{routing::get, Extension, Router};
/// use fc_runtime::Context;
///
/// async fn whoami(Extension(context): Extension<Context>) -> String {
///     format!("{} ({})", context.function_name.unwrap_or_default(), context.request_id)
/// }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> Result<(), fc_runtime::Error> {
///     fc_runtime::run_http(Router::new().route("/whoami", get(whoami))).await
/// }
/// ```
///
/// # Errors
/// As [`Runtime::run`].
#[cfg(feature = "http")]
pub async fn run_http<S>(service: S) -> Result<(), Error>
where
    S: HttpService,
{
    Runtime::new().run_http(service).await
}

/// Wraps a user hook as the type-erased hook the app stores.
fn erase_hook<H, Fut, E>(hook: H) -> Arc<HookFn>
where
    H: Fn(Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<Diagnostic>,
{
    let hook = Arc::new(hook);
    Arc::new(move |context| {
        let hook = Arc::clone(&hook);
        Box::pin(async move { hook(context).await.map_err(Into::into) })
    })
}

/// The text of `/proc/self/limits`, where there is one (Linux).
fn process_limits() -> Option<String> {
    std::fs::read_to_string("/proc/self/limits").ok()
}

/// Half the soft open-file limit read from `limits` (the text of `/proc/self/limits`), at most
/// [`DEFAULT_MAX_CONNECTIONS`]; that when the limit is unknown or unlimited.
pub(crate) fn default_max_connections(limits: Option<&str>) -> usize {
    let soft = limits.and_then(|limits| {
        limits
            .lines()
            .find_map(|line| line.strip_prefix("Max open files"))
            .and_then(|values| values.split_whitespace().next())
            .and_then(|soft| soft.parse::<u64>().ok())
    });
    match soft {
        Some(soft) => usize::try_from(soft / 2)
            .unwrap_or(usize::MAX)
            .clamp(1, DEFAULT_MAX_CONNECTIONS),
        None => DEFAULT_MAX_CONNECTIONS,
    }
}

/// A quarter of the instance's memory, from `FC_FUNCTION_MEMORY_SIZE` (MB), [`DEFAULT_MEMORY_MB`]
/// when it is unset or not a number (see [`Runtime::max_body_memory`]).
pub(crate) fn default_body_memory(memory_mb: Option<&str>) -> usize {
    let mb = memory_mb
        .and_then(|mb| mb.trim().parse::<u64>().ok())
        .filter(|&mb| mb > 0)
        .unwrap_or(DEFAULT_MEMORY_MB);
    usize::try_from(mb.saturating_mul(1024 * 1024) / 4).unwrap_or(usize::MAX)
}

/// The port from `FC_CUSTOM_LISTEN_PORT`, else `FC_SERVER_PORT`, else 9000.
pub(crate) fn port_from(lookup: impl Fn(&str) -> Option<String>) -> Result<u16, Error> {
    for variable in ["FC_CUSTOM_LISTEN_PORT", "FC_SERVER_PORT"] {
        if let Some(value) = lookup(variable) {
            return value
                .trim()
                .parse()
                .map_err(|_| Error::InvalidPort { variable, value });
        }
    }
    Ok(DEFAULT_PORT)
}

/// Completes on SIGTERM (how FC stops an instance) or Ctrl-C (SIGINT). The handlers are
/// installed by this call, not when the future is first polled.
#[cfg(unix)]
fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{signal, Signal, SignalKind};
    async fn received(signal: std::io::Result<Signal>) {
        match signal {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    }
    let terminate = received(signal(SignalKind::terminate()));
    let interrupt = received(signal(SignalKind::interrupt()));
    async move {
        tokio::select! {
            () = terminate => {}
            () = interrupt => {}
        }
    }
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
async fn shutdown_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

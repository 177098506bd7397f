//! The runtime builder and the HTTP server FC talks to.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::TcpListener;

use crate::app::{App, HookFn, InvokeFn, DEFAULT_MAX_BODY_BYTES};
use crate::context::Environment;
use crate::event::{decode, encode};
use crate::{logger, Context, Diagnostic, Error, Event};

/// How long shutdown waits for in-flight invocations by default.
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

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
}

impl Default for Runtime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime {
    /// A runtime without hooks, a 32 MiB body limit and a 30 s shutdown grace period.
    pub fn new() -> Self {
        Self {
            initializer: None,
            pre_stop: None,
            pre_freeze: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
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

    /// How long shutdown (SIGTERM, Ctrl-C) waits for in-flight invocations. Default: 30 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
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

    /// Installs the logger, listens on `0.0.0.0:<port>` and serves `handler` until SIGTERM or
    /// Ctrl-C; then stops accepting, lets in-flight invocations finish (bounded by the
    /// shutdown timeout) and returns `Ok(())`.
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
        logger::init();
        let port = port_from(|name| std::env::var(name).ok())?;
        let address = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| Error::Bind { address, source })?;
        let shutdown_timeout = self.shutdown_timeout;
        let app = self.app(handler);
        // Installed before the start line, so a SIGTERM right after it is a graceful stop too.
        let shutdown = shutdown_signal();
        log::info!("listening on {address}");
        serve(listener, app, shutdown, shutdown_timeout).await;
        Ok(())
    }
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
/// #[tokio::main]
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

/// Accepts connections (each served on its own task, HTTP/1.1 keep-alive) until `shutdown`
/// completes, then waits up to `grace` for open connections to finish their requests.
async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    log::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = service_fn(move |request| {
            let app = app.clone();
            async move { Ok::<_, std::convert::Infallible>(app.handle(request).await) }
        });
        let connection = http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                log::debug!("connection closed with an error: {error}");
            }
        });
    }
    drop(listener);
    log::info!("shutting down: waiting for in-flight invocations");
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        log::warn!("in-flight invocations did not finish within {grace:?}");
    }
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

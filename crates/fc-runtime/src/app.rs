//! Routing and invocation, independent of any socket: a request in, a response out.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpStream;

use crate::context::{Environment, FcHeader, FcHeaders};
use crate::error::X_FC_STATUS;
use crate::logger::{self, current_request_id, print_line, with_request_id};
use crate::server::{spawn_connection, Connections};
use crate::{Context, Diagnostic, Error};

/// The error type a request body may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A future that can be sent between threads.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The type-erased handler: body bytes and context in, response body and content type out.
pub(crate) type InvokeFn =
    dyn Fn(Bytes, Context) -> BoxFuture<Result<(Bytes, &'static str), Error>> + Send + Sync;

/// A type-erased lifecycle hook.
pub(crate) type HookFn = dyn Fn(Context) -> BoxFuture<Result<(), Diagnostic>> + Send + Sync;

/// FC's invocation body limit for synchronous calls: 32 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The function as an HTTP service: routes FC's calls to the handler and the hooks.
///
/// Built by [`Runtime::app`](crate::Runtime::app); [`App::handle`] answers one request
/// without a socket, which is how handlers are tested end to end.
#[derive(Clone)]
pub struct App {
    pub(crate) invoke: Arc<InvokeFn>,
    pub(crate) initializer: Option<Arc<HookFn>>,
    pub(crate) pre_stop: Option<Arc<HookFn>>,
    pub(crate) pre_freeze: Option<Arc<HookFn>>,
    pub(crate) max_body_bytes: usize,
    pub(crate) environment: Arc<Environment>,
}

impl App {
    /// Answers one request the way FC expects: `POST /invoke` runs the handler,
    /// `POST /initialize`, `GET /pre-stop` and `GET /pre-freeze` run the configured hooks.
    /// Unknown paths and unconfigured hooks get 404, a wrong method 405. Never panics, even
    /// when the handler does.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let fc_headers = FcHeaders::find(request.headers());
        let is_http_trigger = fc_headers
            .get(FcHeader::ControlPath)
            .is_some_and(|path| path.as_bytes() == b"/http-invoke");
        if is_http_trigger {
            return Error::HttpTriggerUnsupported.into_response();
        }
        // The method each path accepts, and the hook (with its log name) it runs, if any.
        let configured = |name, hook: &Option<Arc<HookFn>>| hook.clone().map(|hook| (name, hook));
        let path = request.uri().path();
        let route = match path {
            "/invoke" => Some(("POST", None)),
            "/initialize" => configured("Initialize", &self.initializer).map(|h| ("POST", Some(h))),
            "/pre-stop" => configured("PreStop", &self.pre_stop).map(|h| ("GET", Some(h))),
            "/pre-freeze" => configured("PreFreeze", &self.pre_freeze).map(|h| ("GET", Some(h))),
            _ => None,
        };
        let method = request.method().as_str();
        let Some((allowed, hook)) = route else {
            let (method, path) = (method.to_owned(), path.to_owned());
            return Error::NotFound { method, path }.into_response();
        };
        if method != allowed {
            let (method, path) = (method.to_owned(), path.to_owned());
            return Error::MethodNotAllowed {
                method,
                path,
                allowed,
            }
            .into_response();
        }
        let context = Context::from_headers(&fc_headers, &self.environment);
        let request_id = context.request_id.clone();
        match hook {
            None => {
                let limit = self.max_body_bytes;
                let outcome = logged("Invoke", request_id, async {
                    let body = read_body(request, limit).await?;
                    catch_unwind((self.invoke)(body, context)).await?
                })
                .await;
                match outcome {
                    Ok((body, content_type)) => success(body, content_type),
                    Err(error) => error.into_response(),
                }
            }
            Some((name, function)) => {
                let outcome = logged(name, request_id, async {
                    catch_unwind(function(context))
                        .await?
                        .map_err(Error::Handler)
                })
                .await;
                match outcome {
                    Ok(()) => success(Bytes::new(), "text/plain"),
                    // A hook fails with any non-2xx status; 500 says it is the function's fault.
                    Err(error) => {
                        let mut response = error.into_response();
                        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                        response
                    }
                }
            }
        }
    }
}

/// Runs `work` between FC's `FC <kind> Start/End RequestId: <id>` lines, with `request_id` on
/// every log line it writes, and logs its error (the message only, as in the response).
///
/// The End line is written even when the work is dropped unfinished (its connection was closed
/// under it: a client that reset it, a request body that stalled): every Start has its End.
async fn logged<T>(
    kind: &str,
    request_id: String,
    work: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    print_line(format_args!("FC {kind} Start RequestId: {request_id}"));
    let outcome = with_request_id(request_id, async {
        let mut end = EndLine { kind, done: false };
        let outcome = work.await;
        if let Err(error) = &outcome {
            log::error!("{kind} failed: {error}");
        }
        end.done = true;
        print_end(kind);
        outcome
    })
    .await;
    // Before the answer: FC may freeze the instance once it has it.
    logger::written().await;
    outcome
}

/// `FC <kind> End RequestId: <id>`, with the current task's request id.
fn print_end(kind: &str) {
    current_request_id(|id| print_line(format_args!("FC {kind} End RequestId: {id}")));
}

/// Writes the End line of work dropped before it finished (see [`logged`]).
struct EndLine<'a> {
    kind: &'a str,
    done: bool,
}

impl Drop for EndLine<'_> {
    fn drop(&mut self) {
        if !self.done {
            let kind = self.kind;
            log::error!("{kind} failed: the connection closed before the answer was ready");
            print_end(kind);
        }
    }
}

/// Reads the whole body, refusing more than `limit` bytes (checked against `Content-Length`
/// first, so an oversized upload is refused before it is read).
async fn read_body<B>(request: Request<B>, limit: usize) -> Result<Bytes, Error>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(Error::PayloadTooLarge { limit });
    }
    let mut body = std::pin::pin!(Limited::new(request.into_body(), limit));
    // One frame is kept as it came (no copy); more are gathered in one buffer of the declared
    // length, not collected in pieces and then copied whole: a large body is held once, not
    // twice (hyper reads a body in pieces of its 32 KiB buffer).
    let mut first: Option<Bytes> = None;
    let mut gathered: Option<BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| match error {
            error if error.is::<LengthLimitError>() => Error::PayloadTooLarge { limit },
            error => Error::BodyRead(error.to_string()),
        })?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        // The data as `Bytes`: no copy when it is (hyper's is).
        let data = data.copy_to_bytes(data.remaining());
        if let Some(gathered) = &mut gathered {
            gathered.extend_from_slice(&data);
        } else if let Some(first) = first.take() {
            let expected = declared.map_or(0, |length| usize::try_from(length).unwrap_or(0));
            let mut buffer = BytesMut::with_capacity(expected.max(first.len() + data.len()));
            buffer.extend_from_slice(&first);
            buffer.extend_from_slice(&data);
            gathered = Some(buffer);
        } else {
            first = Some(data);
        }
    }
    Ok(gathered.map_or_else(|| first.unwrap_or_default(), BytesMut::freeze))
}

/// A 200 answer with `x-fc-status: 200`.
fn success(body: Bytes, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    headers.insert(X_FC_STATUS, HeaderValue::from_static("200"));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Polls `future`, turning a panic into [`Error::Panic`] with the panic's message.
pub(crate) async fn catch_unwind<T>(future: BoxFuture<T>) -> Result<T, Error> {
    CatchUnwind(future).await
}

/// The future behind [`catch_unwind`].
struct CatchUnwind<T>(BoxFuture<T>);

impl<T> Future for CatchUnwind<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(payload) => Poll::Ready(Err(Error::Panic(
                logger::panic_text(payload.as_ref()).to_owned(),
            ))),
        }
    }
}

/// What the server answers requests with: [`App`], or with the `http` feature an app that also
/// serves HTTP-trigger requests. The server is generic over it, so that a function without HTTP
/// compiles to the same code whether the feature is on or not (cargo unifies features across
/// the crates of a workspace built together, as the bootstraps are).
pub(crate) trait Respond: Send + Sync + 'static {
    /// The body of its answers.
    type Body: Body<Data = Bytes, Error: Into<BoxError>> + Send + Unpin + 'static;

    /// Answers one request.
    fn respond<B>(&self, request: Request<B>) -> impl Future<Output = Response<Self::Body>> + Send
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>;

    /// Serves one connection with `app`: [`spawn_connection`] for this type. Each implementation
    /// is a plain function of this crate, compiled here as the server was before it was
    /// generic, rather than in the function's crate.
    fn spawn(
        app: &Arc<Self>,
        stream: TcpStream,
        connections: &Arc<Connections>,
        graceful: &GracefulShutdown,
    );
}

impl Respond for App {
    type Body = Full<Bytes>;

    fn respond<B>(&self, request: Request<B>) -> impl Future<Output = Response<Self::Body>> + Send
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.handle(request)
    }

    fn spawn(
        app: &Arc<Self>,
        stream: TcpStream,
        connections: &Arc<Connections>,
        graceful: &GracefulShutdown,
    ) {
        spawn_connection(stream, app, connections, graceful);
    }
}

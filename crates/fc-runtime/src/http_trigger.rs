//! HTTP-trigger requests served by a tower `Service` (cargo feature `http`).
//!
//! FC forwards an HTTP-trigger or custom-domain request to the function's server with the
//! client's method, path, query, headers and body, adds its `x-fc-*` headers and marks it with
//! `x-fc-control-path: /http-invoke`; it returns the server's status, headers and body to the
//! client (FC docs, "HTTP functions in a custom runtime", doc 191345). So such a request goes
//! to the user's service as it came, and its answer goes back as the service gave it, less the
//! headers FC reserves.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::{Body, Frame, SizeHint};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::app::{catch_unwind, App, BoxError, Respond};
use crate::context::FcHeaders;
use crate::logger::{self, print_line, with_request_id};
use crate::server::{spawn_connection, Connections};
use crate::{Context, Diagnostic, Error};

/// The response body the server writes with the feature on: an event's whole answer, or an
/// HTTP answer streamed as the service produces it.
pub(crate) type ServedBody = Either<Full<Bytes>, Streamed>;

/// A response body of any type.
type BoxBody = UnsyncBoxBody<Bytes, BoxError>;

/// Response headers FC reserves for itself, which a function's answer may not set (FC docs,
/// "HTTP functions in a custom runtime", doc 191345); `x-fc-*` headers besides.
const RESERVED_RESPONSE_HEADERS: [HeaderName; 5] = [
    header::CONNECTION,
    header::CONTENT_LENGTH,
    header::DATE,
    HeaderName::from_static("keep-alive"),
    header::SERVER,
];

/// The headers that carry the function role's temporary credentials: taken off the request
/// handed to the service (they are in its [`Context`]), so that a service logging its
/// requests' headers cannot log them.
const CREDENTIAL_HEADERS: [&str; 3] = [
    "x-fc-access-key-id",
    "x-fc-access-key-secret",
    "x-fc-security-token",
];

/// The body of an HTTP-trigger request as the service receives it: the client's bytes as they
/// arrive, at most the runtime's body limit
/// ([`Runtime::max_body_bytes`](crate::Runtime::max_body_bytes), 32 MiB by default). Past
/// the limit a read fails with [`http_body_util::LengthLimitError`], which axum's extractors
/// answer with 413.
pub struct RequestBody(Limited<UnsyncBoxBody<Bytes, BoxError>>);

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.get_mut().0).poll_frame(cx)
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    #[inline]
    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

impl std::fmt::Debug for RequestBody {
    #[inline]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestBody")
    }
}

/// A tower service that can answer HTTP-trigger requests: every
/// `Service<Request<RequestBody>>` that is `Clone + Send + Sync + 'static`, with a `Send` future,
/// an error that converts into [`BoxError`] and responses whose body yields [`Bytes`]. axum's
/// `Router` is one.
pub trait HttpService:
    Service<
        Request<RequestBody>,
        Response = Response<Self::ResponseBody>,
        Error: Into<BoxError>,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
    /// The body of its responses.
    type ResponseBody: Body<Data = Bytes, Error: Into<BoxError>> + Send + 'static;
}

impl<S, B> HttpService for S
where
    S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type ResponseBody = B;
}

/// The function's events and hooks ([`App`]) and its HTTP service `S`, served together.
///
/// Generic, as everything of this module that runs per request is (or `#[inline]`): compiled
/// in the function's crate only, so that fc-runtime's own code, which an event-only function
/// links, is the same with the feature on as without it.
pub(crate) struct HttpApp<S> {
    app: App,
    service: S,
}

impl<S> HttpApp<S> {
    pub(crate) fn new(app: App, service: S) -> Self {
        Self { app, service }
    }
}

impl<S: HttpService> Respond for HttpApp<S> {
    type Body = ServedBody;

    fn respond<R>(&self, request: Request<R>) -> impl Future<Output = Response<ServedBody>> + Send
    where
        R: Body<Data = Bytes> + Send + 'static,
        R::Error: Into<BoxError>,
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

impl<S: HttpService> HttpApp<S> {
    /// Answers one request: an HTTP-trigger request (`x-fc-control-path: /http-invoke`) with
    /// the HTTP service, anything else as [`App::handle`] does.
    async fn handle<R>(&self, request: Request<R>) -> Response<ServedBody>
    where
        R: Body<Data = Bytes> + Send + 'static,
        R::Error: Into<BoxError>,
    {
        let is_http_trigger = request
            .headers()
            .get("x-fc-control-path")
            .is_some_and(|path| path.as_bytes() == b"/http-invoke");
        if !is_http_trigger {
            return self.app.handle(request).await.map(Either::Left);
        }
        let environment = &self.app.environment;
        let context = Context::from_headers(&FcHeaders::find(request.headers()), environment);
        let request_id = context.request_id.clone();
        print_line(format_args!("FC Invoke Start RequestId: {request_id}"));
        let end = InvokeEnd(request_id.clone());
        let outcome = with_request_id(request_id, async {
            let outcome = self.call(request, context).await;
            if let Err((_, error)) = &outcome {
                log::error!("Invoke failed: {error}");
            }
            outcome
        })
        .await;
        let response = match outcome {
            Ok(mut response) => {
                strip_reserved(response.headers_mut());
                response.map(|body| Either::Right(Streamed { body, _end: end }))
            }
            Err((status, error)) => {
                drop(end);
                let mut response = error.into_response();
                *response.status_mut() = status;
                response.headers_mut().remove(crate::error::X_FC_STATUS);
                response.map(Either::Left)
            }
        };
        // Before the answer, as for an event: FC may freeze the instance once it has it. (The
        // End line of an answer with a body follows the body.)
        logger::written().await;
        response
    }

    /// Calls the service with the request, its [`Context`] as an extension and its body
    /// limited; a declared body over the limit is refused before the service is called. An
    /// error is the status to answer with and what to log.
    async fn call<R>(
        &self,
        request: Request<R>,
        context: Context,
    ) -> Result<Response<BoxBody>, (StatusCode, Error)>
    where
        R: Body<Data = Bytes> + Send + 'static,
        R::Error: Into<BoxError>,
    {
        let limit = self.app.max_body_bytes;
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err((
                StatusCode::PAYLOAD_TOO_LARGE,
                Error::PayloadTooLarge { limit },
            ));
        }
        let (mut parts, body) = request.into_parts();
        for name in CREDENTIAL_HEADERS {
            parts.headers.remove(name);
        }
        parts.extensions.insert(context);
        let body = RequestBody(Limited::new(body.map_err(Into::into).boxed_unsync(), limit));
        let request = Request::from_parts(parts, body);
        let mut service = self.service.clone();
        let served = catch_unwind(Box::pin(async move {
            poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(Into::into)?;
            let response = service.call(request).await.map_err(Into::into)?;
            Ok::<_, BoxError>(response.map(|body| body.map_err(Into::into).boxed_unsync()))
        }));
        let internal = StatusCode::INTERNAL_SERVER_ERROR;
        match served.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err((
                internal,
                Error::Handler(Diagnostic::new("ServiceError", error.to_string())),
            )),
            Err(panic) => Err((internal, panic)),
        }
    }
}

/// Removes the response headers FC reserves: `x-fc-*` and [`RESERVED_RESPONSE_HEADERS`].
/// `content-length` is written again by the server from the body when its size is known.
#[inline]
fn strip_reserved(headers: &mut HeaderMap) {
    for name in &RESERVED_RESPONSE_HEADERS {
        headers.remove(name);
    }
    let fc_headers: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-fc-"))
        .cloned()
        .collect();
    for name in fc_headers {
        headers.remove(name);
    }
}

/// Prints `FC Invoke End RequestId: <id>` when dropped: when the answer's body has been written
/// whole, or abandoned (the client went away).
struct InvokeEnd(String);

impl Drop for InvokeEnd {
    #[inline]
    fn drop(&mut self) {
        print_line(format_args!("FC Invoke End RequestId: {}", self.0));
    }
}

/// An HTTP answer's body, passed through frame by frame (nothing buffered), that ends its
/// invocation's log when it is done.
pub(crate) struct Streamed {
    body: BoxBody,
    _end: InvokeEnd,
}

impl Body for Streamed {
    type Data = Bytes;
    type Error = BoxError;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    #[inline]
    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    #[inline]
    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

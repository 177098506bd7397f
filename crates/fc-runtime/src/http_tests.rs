//! The HTTP layer on a real socket: HTTP-trigger requests to a tower service, events beside.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Channel, Full, LengthLimitError};
use hyper::body::Body as _;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::http_trigger::HttpApp;
use crate::server::serve;
use crate::{BoxError, Context, Event, RequestBody, Runtime};

type Body = UnsyncBoxBody<Bytes, BoxError>;

fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into()).map_err(Into::into).boxed_unsync()
}

/// What the test service saw and holds.
#[derive(Clone)]
struct Probe {
    /// Calls of the service.
    calls: Arc<AtomicUsize>,
    /// The sender of each `/stream` answer's body, handed to the test.
    streams: mpsc::UnboundedSender<http_body_util::channel::Sender<Bytes, BoxError>>,
}

/// The test service: one behaviour per path.
async fn route(probe: Probe, request: Request<RequestBody>) -> Result<Response<Body>, BoxError> {
    probe.calls.fetch_add(1, Ordering::SeqCst);
    let path = request.uri().path().to_owned();
    let response = match path.as_str() {
        "/context" => {
            let context = request.extensions().get::<Context>().cloned();
            let credential_headers: Vec<&str> = request
                .headers()
                .keys()
                .map(http::HeaderName::as_str)
                .filter(|name| name.starts_with("x-fc-access") || *name == "x-fc-security-token")
                .collect();
            let body = json!({
                "request_id": context.as_ref().map(|c| c.request_id.clone()),
                "function_name": context.as_ref().and_then(|c| c.function_name.clone()),
                "access_key_id": context
                    .as_ref()
                    .and_then(|c| c.credentials.as_ref())
                    .map(|c| c.access_key_id.clone()),
                "credential_headers": credential_headers,
                "request_id_header": request.headers().get("x-fc-request-id")
                    .map(|v| v.to_str().unwrap_or_default().to_owned()),
            });
            Response::new(full(body.to_string()))
        }
        "/body" => {
            // What a service learns of the body before reading it.
            let body = request.into_body();
            let hint = body.size_hint();
            let seen = json!({
                "lower": hint.lower(),
                "upper": hint.upper(),
                "end": body.is_end_stream(),
                "debug": format!("{body:?}"),
            });
            let read = body.collect().await?.to_bytes().len();
            Response::new(full(json!({"before": seen, "read": read}).to_string()))
        }
        "/echo" => match request.into_body().collect().await {
            Ok(collected) => Response::new(full(collected.to_bytes())),
            Err(error) if error.is::<LengthLimitError>() => Response::builder()
                .status(StatusCode::PAYLOAD_TOO_LARGE)
                .body(full("too large"))?,
            Err(error) => return Err(error),
        },
        "/reserved" => Response::builder()
            .header("x-fc-status", "404")
            .header("x-fc-request-id", "forged")
            .header("connection", "close")
            .header("keep-alive", "timeout=1")
            .header("content-length", "999")
            .header("date", "Mon, 01 Jan 2001 00:00:00 GMT")
            .header("server", "forged")
            .header("x-kept", "yes")
            .body(full("hello"))?,
        "/stream" => {
            let (sender, body) = Channel::<Bytes, BoxError>::new(1);
            let _ = probe.streams.send(sender);
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(body.boxed_unsync())?
        }
        "/panic" => panic!("panicking on purpose"),
        "/error" => return Err("the service failed".into()),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(full("no route"))?,
    };
    Ok(response)
}

/// Answers events with their payload.
async fn echo_event(event: Event<Value>) -> Result<Value, Infallible> {
    Ok(event.payload)
}

/// The HTTP app on a free loopback port, with what its service saw.
struct Server {
    address: SocketAddr,
    calls: Arc<AtomicUsize>,
    streams: mpsc::UnboundedReceiver<http_body_util::channel::Sender<Bytes, BoxError>>,
    _stop: oneshot::Sender<()>,
}

impl Server {
    async fn start(runtime: Runtime) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let (streams_sender, streams) = mpsc::unbounded_channel();
        let probe = Probe {
            calls: Arc::clone(&calls),
            streams: streams_sender,
        };
        let service = tower::service_fn(move |request| route(probe.clone(), request));
        let settings = runtime.settings();
        let app = HttpApp::new(runtime.app(echo_event), service);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(serve(
            listener,
            app,
            async {
                let _ = stopped.await;
            },
            settings,
        ));
        Self {
            address,
            calls,
            streams,
            _stop: stop,
        }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.address).await.unwrap()
    }
}

/// An HTTP-trigger request as FC forwards it: the client's request plus FC's headers.
fn trigger_request(method: &str, path: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-{}\r\n\
         x-fc-function-name: web\r\nx-fc-control-path: /http-invoke\r\n{extra}\
         content-length: {}\r\n\r\n",
        path.trim_start_matches('/'),
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// One read from `stream`, failing the test when nothing comes for 10 s.
async fn read_some(stream: &mut TcpStream, buffer: &mut [u8]) -> usize {
    tokio::time::timeout(Duration::from_secs(10), stream.read(buffer))
        .await
        .expect("nothing to read for 10 s")
        .unwrap()
}

/// Reads from `stream` until `received` holds `needle`; panics if the stream ends first.
async fn read_until(stream: &mut TcpStream, received: &mut Vec<u8>, needle: &[u8]) {
    let mut buffer = [0; 8192];
    while !received
        .windows(needle.len())
        .any(|window| window == needle)
    {
        let read = read_some(stream, &mut buffer).await;
        assert!(
            read > 0,
            "closed before {:?}: {:?}",
            String::from_utf8_lossy(needle),
            String::from_utf8_lossy(received)
        );
        received.extend_from_slice(&buffer[..read]);
    }
}

/// Reads one answer with a `content-length` body: its head (lowercase) and body.
async fn read_answer(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut received = Vec::new();
    read_until(stream, &mut received, b"\r\n\r\n").await;
    let head_end = received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&received[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .unwrap_or_else(|| panic!("no content-length in {head}"))
        .trim()
        .parse()
        .unwrap();
    let mut body = received[head_end..].to_vec();
    while body.len() < length {
        let mut buffer = [0; 8192];
        let read = read_some(stream, &mut buffer).await;
        assert!(read > 0, "closed in the body");
        body.extend_from_slice(&buffer[..read]);
    }
    (head, body)
}

async fn ask(stream: &mut TcpStream, request: &[u8]) -> (String, Vec<u8>) {
    stream.write_all(request).await.unwrap();
    read_answer(stream).await
}

on_both_runtime_flavours!(
    trigger_requests_reach_the_service_and_events_the_handler_on_one_connection,
    the_context_is_an_extension_and_credentials_leave_the_headers,
    a_panic_answers_500_and_the_connection_keeps_serving,
    a_service_error_answers_500,
    reserved_response_headers_are_stripped,
    a_streamed_body_reaches_the_client_frame_by_frame,
    a_declared_body_over_the_limit_is_refused_before_the_service_runs,
    a_chunked_body_over_the_limit_fails_the_service_read,
    the_service_sees_the_body_s_declared_length_and_end,
    a_declared_body_of_exactly_the_limit_reaches_the_service,
);

async fn trigger_requests_reach_the_service_and_events_the_handler_on_one_connection() {
    let server = Server::start(Runtime::new()).await;
    let mut stream = server.connect().await;
    let (head, body) = ask(
        &mut stream,
        &trigger_request("POST", "/echo", "", b"\x00\xffab"),
    )
    .await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, b"\x00\xffab");
    // The same paths without the control path are FC's own calls: /invoke is an event.
    let event = b"POST /invoke HTTP/1.1\r\nhost: fc\r\ncontent-length: 9\r\n\r\n{\"a\": 1}\n";
    let (head, body) = ask(&mut stream, event).await;
    assert!(head.contains("x-fc-status: 200"), "{head}");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"a": 1})
    );
    // An HTTP-trigger request for /invoke is the client's path, for the service.
    let (head, body) = ask(&mut stream, &trigger_request("POST", "/invoke", "", b"")).await;
    assert!(head.starts_with("http/1.1 404"), "{head}");
    assert_eq!(body, b"no route");
    assert_eq!(server.calls.load(Ordering::SeqCst), 2);
}

async fn the_context_is_an_extension_and_credentials_leave_the_headers() {
    let server = Server::start(Runtime::new()).await;
    let mut stream = server.connect().await;
    let credentials = "x-fc-access-key-id: AKID-test\r\nx-fc-access-key-secret: not-a-secret\r\n\
                       x-fc-security-token: not-a-token\r\n";
    let (_, body) = ask(
        &mut stream,
        &trigger_request("GET", "/context", credentials, b""),
    )
    .await;
    let seen: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        seen,
        json!({
            "request_id": "req-context",
            "function_name": "web",
            "access_key_id": "AKID-test",
            "credential_headers": [],
            "request_id_header": "req-context",
        })
    );
}

async fn a_panic_answers_500_and_the_connection_keeps_serving() {
    let server = Server::start(Runtime::new()).await;
    let mut stream = server.connect().await;
    let (head, body) = ask(&mut stream, &trigger_request("GET", "/panic", "", b"")).await;
    assert!(head.starts_with("http/1.1 500"), "{head}");
    assert!(!head.contains("x-fc-status"), "{head}");
    assert!(String::from_utf8_lossy(&body).contains("Panic"));
    let (head, body) = ask(&mut stream, &trigger_request("POST", "/echo", "", b"after")).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, b"after");
}

async fn a_service_error_answers_500() {
    let server = Server::start(Runtime::new()).await;
    let mut stream = server.connect().await;
    let (head, body) = ask(&mut stream, &trigger_request("GET", "/error", "", b"")).await;
    assert!(head.starts_with("http/1.1 500"), "{head}");
    assert!(String::from_utf8_lossy(&body).contains("the service failed"));
}

async fn reserved_response_headers_are_stripped() {
    let server = Server::start(Runtime::new()).await;
    let mut stream = server.connect().await;
    let (head, body) = ask(&mut stream, &trigger_request("GET", "/reserved", "", b"")).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, b"hello");
    assert!(head.contains("x-kept: yes"), "{head}");
    assert!(head.contains("content-length: 5\r\n"), "{head}");
    for forged in ["x-fc-", "999", "keep-alive", "2001", "forged", "connection"] {
        assert!(!head.contains(forged), "{forged} in {head}");
    }
    // The connection stayed open although the service asked to close it.
    let (head, _) = ask(&mut stream, &trigger_request("POST", "/echo", "", b"x")).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
}

async fn a_streamed_body_reaches_the_client_frame_by_frame() {
    let mut server = Server::start(Runtime::new()).await;
    let mut stream = server.connect().await;
    stream
        .write_all(&trigger_request("GET", "/stream", "", b""))
        .await
        .unwrap();
    let mut sender = server.streams.recv().await.unwrap();
    let mut received = Vec::new();
    sender
        .send_data(Bytes::from("data: one\n\n"))
        .await
        .unwrap();
    // The first event arrives while the body is still open: nothing waits for the whole body.
    read_until(&mut stream, &mut received, b"data: one\n\n").await;
    let head = String::from_utf8_lossy(&received).to_lowercase();
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    sender
        .send_data(Bytes::from("data: two\n\n"))
        .await
        .unwrap();
    read_until(&mut stream, &mut received, b"data: two\n\n").await;
    drop(sender);
    read_until(&mut stream, &mut received, b"\r\n0\r\n\r\n").await;
}

async fn a_declared_body_over_the_limit_is_refused_before_the_service_runs() {
    let server = Server::start(Runtime::new()).await;
    let mut stream = server.connect().await;
    let head = "POST /echo HTTP/1.1\r\nhost: fc\r\nx-fc-control-path: /http-invoke\r\n\
                content-length: 33554433\r\n\r\n";
    let (head, body) = ask(&mut stream, head.as_bytes()).await;
    assert!(head.starts_with("http/1.1 413"), "{head}");
    assert!(!head.contains("x-fc-status"), "{head}");
    assert!(String::from_utf8_lossy(&body).contains("33554432 bytes"));
    assert_eq!(server.calls.load(Ordering::SeqCst), 0);
}

async fn a_chunked_body_over_the_limit_fails_the_service_read() {
    let server = Server::start(Runtime::new().max_body_bytes(8)).await;
    let mut stream = server.connect().await;
    let request = "POST /echo HTTP/1.1\r\nhost: fc\r\nx-fc-control-path: /http-invoke\r\n\
                   transfer-encoding: chunked\r\n\r\n5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n";
    let (head, body) = ask(&mut stream, request.as_bytes()).await;
    assert!(head.starts_with("http/1.1 413"), "{head}");
    assert_eq!(body, b"too large");
    // The rest of the refused body is thrown away and that connection closed: a new one.
    let mut stream = server.connect().await;
    let within = "POST /echo HTTP/1.1\r\nhost: fc\r\nx-fc-control-path: /http-invoke\r\n\
                  transfer-encoding: chunked\r\n\r\n5\r\n12345\r\n0\r\n\r\n";
    let (head, body) = ask(&mut stream, within.as_bytes()).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, b"12345");
}

/// Kills, in both the server's and the HTTP layer's `RequestBody`, `is_end_stream` -> true or
/// false and `size_hint` -> `Default::default()`, and the HTTP `RequestBody`'s `Debug` -> `Ok(())`:
/// a service sees a body's declared length, and whether there is one, before reading it.
async fn the_service_sees_the_body_s_declared_length_and_end() {
    let server = Server::start(Runtime::new()).await;
    let mut stream = server.connect().await;
    let (head, body) = ask(&mut stream, &trigger_request("POST", "/body", "", b"hello")).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({
            "before": {"lower": 5, "upper": 5, "end": false, "debug": "RequestBody"},
            "read": 5,
        })
    );
    let (_, body) = ask(&mut stream, &trigger_request("GET", "/body", "", b"")).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({
            "before": {"lower": 0, "upper": 0, "end": true, "debug": "RequestBody"},
            "read": 0,
        })
    );
}

/// Kills `>` -> `>=` in `HttpApp::call`: a body that declares exactly the limit is the service's.
async fn a_declared_body_of_exactly_the_limit_reaches_the_service() {
    let server = Server::start(Runtime::new().max_body_bytes(5)).await;
    let mut stream = server.connect().await;
    let (head, body) = ask(&mut stream, &trigger_request("POST", "/echo", "", b"hello")).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(body, b"hello");
}

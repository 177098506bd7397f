//! The app driven without a socket: routing, results, failures and hooks.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::runtime::port_from;
use crate::{App, Context, Diagnostic, Error, Event, Runtime, TimerEvent};

#[derive(Deserialize)]
struct Order {
    items: Vec<Item>,
    #[serde(default)]
    fail: bool,
    #[serde(default)]
    panic: bool,
}

#[derive(Deserialize)]
struct Item {
    count: u32,
}

#[derive(Serialize)]
struct Total {
    total: u32,
    request_id: String,
}

#[derive(Debug, thiserror::Error)]
#[error("order rejected")]
struct Rejected;

async fn total(event: Event<Order>) -> Result<Total, Rejected> {
    let order = event.payload;
    if order.panic {
        panic!("boom");
    }
    if order.fail {
        return Err(Rejected);
    }
    Ok(Total {
        total: order.items.iter().map(|item| item.count).sum(),
        request_id: event.context.request_id,
    })
}

fn app() -> App {
    Runtime::new().max_body_bytes(64).app(total)
}

fn invoke(body: &'static str) -> Request<Full<Bytes>> {
    Request::post("/invoke")
        .header("x-fc-request-id", "req-1")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

async fn answer(response: Response<Full<Bytes>>) -> (StatusCode, String, Value) {
    let status = response.status();
    let fc_status = response
        .headers()
        .get("x-fc-status")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, fc_status, json)
}

#[tokio::test]
async fn success_answers_200_with_the_json_result() {
    let (status, fc_status, body) = answer(
        app()
            .handle(invoke(r#"{"items":[{"count":2},{"count":3}]}"#))
            .await,
    )
    .await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::OK, "200"));
    assert_eq!(body, json!({"total": 5, "request_id": "req-1"}));
}

#[tokio::test]
async fn handler_error_answers_404_with_its_message_only() {
    let (status, fc_status, body) =
        answer(app().handle(invoke(r#"{"items":[],"fail":true}"#)).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(
        body,
        json!({"errorType": "Rejected", "errorMessage": "order rejected"})
    );
}

#[tokio::test]
async fn panic_answers_404_and_the_app_keeps_serving() {
    let app = app();
    let (status, fc_status, body) =
        answer(app.handle(invoke(r#"{"items":[],"panic":true}"#)).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(body, json!({"errorType": "Panic", "errorMessage": "boom"}));
    let (status, _, _) = answer(app.handle(invoke(r#"{"items":[]}"#)).await).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_json_names_the_path() {
    let (status, fc_status, body) =
        answer(app().handle(invoke(r#"{"items":[{"count":"x"}]}"#)).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(body["errorType"], "InvalidPayload");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(message.contains("items[0].count"), "{message}");
    // Not JSON at all, and JSON of the wrong shape: the same failed invocation.
    for bad in ["not json", "[1, 2]"] {
        let (status, fc_status, body) = answer(app().handle(invoke(bad)).await).await;
        assert_eq!(
            (status, fc_status.as_str()),
            (StatusCode::NOT_FOUND, "404"),
            "{bad}"
        );
        assert_eq!(body["errorType"], "InvalidPayload", "{bad}");
    }
}

#[tokio::test]
async fn an_unserialisable_result_is_a_failed_invocation() {
    let app = Runtime::new().app(|_: Event<Value>| async {
        // JSON object keys must be strings: serde_json refuses this map.
        Ok::<_, Error>(std::collections::BTreeMap::from([((1, 2), 3)]))
    });
    let (status, fc_status, body) = answer(app.handle(invoke("{}")).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(body["errorType"], "InvalidResponse");
}

#[tokio::test]
async fn oversized_bodies_get_413_naming_the_limit() {
    let big = Box::leak(format!(r#"{{"items":[],"pad":"{}"}}"#, "x".repeat(100)).into_boxed_str());
    let mut declared = invoke(big);
    declared
        .headers_mut()
        .insert("content-length", big.len().into());
    let (status, fc_status, body) = answer(app().handle(declared).await).await;
    assert_eq!(
        (status, fc_status.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "404")
    );
    assert_eq!(body["errorType"], "PayloadTooLarge");
    assert!(body["errorMessage"].as_str().unwrap().contains("64 bytes"));
    // Without Content-Length the limit still holds while reading.
    let (status, _, _) = answer(app().handle(invoke(big)).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// Kills `>` -> `>=` in read_body: a body that declares exactly the limit is read.
#[tokio::test]
async fn a_body_of_exactly_the_limit_is_read() {
    let body = r#"{"items":[{"count":7}],"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#;
    assert_eq!(body.len(), 64);
    let mut request = invoke(body);
    request
        .headers_mut()
        .insert("content-length", body.len().into());
    let (status, _, answer) = answer(app().handle(request).await).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["total"], 7);
}

/// Kills the match guard `error.is::<LengthLimitError>()` -> true in read_body: a body that
/// fails while it is read (the client went away) is no oversized body.
#[tokio::test]
async fn a_body_that_fails_while_read_is_a_body_read_error() {
    let (mut sender, body) = http_body_util::Channel::<Bytes, std::io::Error>::new(1);
    sender.send_data(Bytes::from_static(b"{")).await.unwrap();
    sender.abort(std::io::Error::other("the client went away"));
    let request = Request::post("/invoke")
        .header("x-fc-request-id", "req-1")
        .body(body)
        .unwrap();
    let (status, fc_status, body) = answer(app().handle(request).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(body["errorType"], "BodyReadError");
    assert_eq!(
        body["errorMessage"],
        "cannot read the request body: the client went away"
    );
}

#[tokio::test]
async fn routing_answers_404_and_405() {
    let app = app();
    let get_invoke = Request::get("/invoke")
        .body(Full::<Bytes>::default())
        .unwrap();
    let (status, fc_status, body) = answer(app.handle(get_invoke).await).await;
    assert_eq!(
        (status, fc_status.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "404")
    );
    assert_eq!(body["errorType"], "MethodNotAllowed");
    for (method, path) in [
        ("GET", "/"),
        ("POST", "/other"),
        ("POST", "/initialize"),
        ("GET", "/pre-stop"),
        ("GET", "/pre-freeze"),
    ] {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::<Bytes>::default())
            .unwrap();
        let (status, fc_status, body) = answer(app.handle(request).await).await;
        assert_eq!(
            (status, fc_status.as_str()),
            (StatusCode::NOT_FOUND, "404"),
            "{method} {path}"
        );
        assert_eq!(body["errorType"], "NotFound");
    }
}

#[tokio::test]
async fn http_trigger_requests_are_refused_clearly() {
    let request = Request::get("/some/page")
        .header("x-fc-control-path", "/http-invoke")
        .body(Full::<Bytes>::default())
        .unwrap();
    let (status, fc_status, body) = answer(app().handle(request).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(body["errorType"], "HttpTriggerUnsupported");
}

#[tokio::test]
async fn configured_hooks_answer_200_and_failures_500() {
    let app = Runtime::new()
        .initializer(|context: Context| async move {
            if context.request_id == "init-1" {
                Ok(())
            } else {
                Err(Diagnostic::new("InitFailed", "not ready"))
            }
        })
        .pre_stop(|_: Context| async { Ok::<(), String>(()) })
        .pre_freeze(freeze)
        .app(total);
    let init = |id: &'static str| {
        Request::post("/initialize")
            .header("x-fc-request-id", id)
            .body(Full::<Bytes>::default())
            .unwrap()
    };
    let (status, fc_status, _) = answer(app.handle(init("init-1")).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::OK, "200"));
    let (status, fc_status, body) = answer(app.handle(init("init-2")).await).await;
    assert_eq!(
        (status, fc_status.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "404")
    );
    assert_eq!(
        body,
        json!({"errorType": "InitFailed", "errorMessage": "not ready"})
    );
    let stop = Request::get("/pre-stop")
        .body(Full::<Bytes>::default())
        .unwrap();
    assert_eq!(app.handle(stop).await.status(), StatusCode::OK);
    let freeze = Request::get("/pre-freeze")
        .body(Full::<Bytes>::default())
        .unwrap();
    let (status, _, body) = answer(app.handle(freeze).await).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({"errorType": "Panic", "errorMessage": "frozen"})
    );
    let wrong = Request::post("/pre-stop")
        .body(Full::<Bytes>::default())
        .unwrap();
    assert_eq!(
        app.handle(wrong).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn timer_events_and_raw_bodies_reach_the_handler() {
    let timer = Runtime::new().app(|event: Event<TimerEvent>| async move {
        Ok::<_, Error>(event.payload.payload.into_bytes())
    });
    let fixture = include_str!("../tests/fixtures/timer_event.json").trim();
    let request = Request::post("/invoke")
        .body(Full::new(Bytes::from_static(fixture.as_bytes())))
        .unwrap();
    let response = timer.handle(request).await;
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"awesome-fc");

    let echo =
        Runtime::new().app(|event: Event<Bytes>| async move { Ok::<_, Error>(event.payload) });
    let request = Request::post("/invoke")
        .body(Full::new(Bytes::from_static(b"\xffraw")))
        .unwrap();
    let body = echo
        .handle(request)
        .await
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(&body[..], b"\xffraw");
}

#[tokio::test]
async fn diagnostics_with_details_reach_the_body() {
    let app = Runtime::new().app(|_: Event<Value>| async {
        Err::<Value, _>(
            Diagnostic::new("SyncFailed", "1 of 2 failed").with_details(json!({"failed": 1})),
        )
    });
    let (status, fc_status, body) = answer(app.handle(invoke("{}")).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(
        body,
        json!({"errorType": "SyncFailed", "errorMessage": "1 of 2 failed", "details": {"failed": 1}})
    );
}

#[test]
fn the_port_comes_from_the_environment() {
    assert_eq!(port_from(fake_env(&[])).unwrap(), 9000);
    assert_eq!(
        port_from(fake_env(&[("FC_SERVER_PORT", "8080")])).unwrap(),
        8080
    );
    assert_eq!(
        port_from(fake_env(&[
            ("FC_CUSTOM_LISTEN_PORT", "9001"),
            ("FC_SERVER_PORT", "8080")
        ]))
        .unwrap(),
        9001
    );
    let error = port_from(fake_env(&[("FC_CUSTOM_LISTEN_PORT", "nine")])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "FC_CUSTOM_LISTEN_PORT must be a TCP port number (0-65535), got \"nine\""
    );
}

#[test]
fn a_deadline_needs_a_timeout() {
    let mut context = Context::default();
    assert_eq!(context.deadline(), None);
    context.received_at = Some(std::time::Instant::now());
    context.timeout = Some(Duration::from_secs(3));
    assert!(context.deadline().is_some());
}

async fn freeze(_: Context) -> Result<(), String> {
    panic!("frozen")
}

/// A variable lookup over fixed pairs, standing in for the process environment.
pub(crate) fn fake_env(
    pairs: &'static [(&'static str, &'static str)],
) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }
}

/// What the child process's handler panics with: a forged End line, a carriage return and a
/// bidi override.
const FORGED_PANIC: &str = "a\nFC Invoke End RequestId: real-1\r\u{202e}b";

/// The length of the line the child process logs for a `long` body: more than one atomic write
/// to a pipe, so it goes through the log thread.
const LONG_LINE: usize = 5000;

/// Set for the child process of `a_panic_is_one_log_line_and_the_instance_keeps_serving`.
const PANIC_CHILD: &str = "FC_RUNTIME_TEST_PANIC_CHILD";

/// Panics with [`FORGED_PANIC`] when the body is `panic`; answers `"served"` otherwise.
async fn panicking(event: Event<Bytes>) -> Result<&'static str, std::convert::Infallible> {
    if event.payload == "panic" {
        panic!("{FORGED_PANIC}");
    }
    if event.payload == "long" {
        log::info!("{}", "l".repeat(LONG_LINE));
    }
    Ok("served")
}

/// The child process of `a_panic_is_one_log_line_and_the_instance_keeps_serving`: serves
/// [`panicking`] with `Runtime::run`, as a function's `main` does, until it is killed.
#[test]
#[ignore = "run as a child process by a_panic_is_one_log_line_and_the_instance_keeps_serving"]
fn panicking_function() {
    if std::env::var_os(PANIC_CHILD).is_none() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A body that stalls is given up after 300 ms (see a_stalled_body_still_writes_its_end_line).
    let function = Runtime::new().body_read_timeout(Duration::from_millis(300));
    // With `http`, HTTP-trigger requests are answered `page` (see
    // an_http_invocation_writes_its_end_line).
    #[cfg(feature = "http")]
    if std::env::var_os(PANIC_CHILD).is_some_and(|mode| mode == "http") {
        let page = tower::service_fn(|_: Request<crate::RequestBody>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(b"page"))))
        });
        runtime
            .block_on(function.run_with(panicking, page))
            .unwrap();
        return;
    }
    // `http-only`: the same service without an event handler (an_http_only_function_...).
    #[cfg(feature = "http")]
    if std::env::var_os(PANIC_CHILD).is_some_and(|mode| mode == "http-only") {
        let page = tower::service_fn(|_: Request<crate::RequestBody>| async {
            Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(b"page"))))
        });
        runtime.block_on(function.run_http(page)).unwrap();
        return;
    }
    runtime.block_on(function.run(panicking)).unwrap();
}

/// A running [`panicking_function`], with the lines of its stdout and stderr in one channel
/// (`None` when one of them ends).
struct PanickingFunction {
    child: std::process::Child,
    port: u16,
    lines: std::sync::mpsc::Receiver<Option<String>>,
    seen: Vec<String>,
    ended: usize,
}

impl PanickingFunction {
    /// Starts this test binary as [`panicking_function`] on a free port, and waits for its
    /// `listening on` line; tries another port if one was taken meanwhile.
    fn start() -> Self {
        Self::start_as("1")
    }

    /// [`Self::start`], with `mode` (`http`: the function also serves HTTP-trigger requests).
    fn start_as(mode: &str) -> Self {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "tests::panicking_function", "--ignored"])
                .args(["--nocapture", "--test-threads=1", "-q"])
                .env(PANIC_CHILD, mode)
                .env("FC_CUSTOM_LISTEN_PORT", port.to_string())
                .env_remove("FC_SERVER_PORT")
                .env_remove("FC_LOG_LEVEL")
                .env_remove("RUST_LOG")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let (send, lines) = std::sync::mpsc::channel();
            let stdout: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
            let stderr: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
            for stream in [stdout, stderr] {
                let send = send.clone();
                std::thread::spawn(move || {
                    let stream = std::io::BufReader::new(stream);
                    for line in std::io::BufRead::split(stream, b'\n').map_while(Result::ok) {
                        let _ = send.send(Some(String::from_utf8_lossy(&line).into_owned()));
                    }
                    let _ = send.send(None);
                });
            }
            let mut function = Self {
                child,
                port,
                lines,
                seen: Vec::new(),
                ended: 0,
            };
            let ready = format!("listening on 0.0.0.0:{port}");
            if function.wait_for(|line| line.ends_with(&ready)) {
                return function;
            }
        }
        panic!("the panicking function did not start");
    }

    /// Waits (up to 10 s for each line) for a line that `wanted` accepts; false when the
    /// process's output ended first.
    fn wait_for(&mut self, wanted: impl Fn(&str) -> bool) -> bool {
        while self.ended < 2 {
            match self.lines.recv_timeout(Duration::from_secs(10)) {
                Ok(Some(line)) => {
                    let found = wanted(&line);
                    self.seen.push(line);
                    if found {
                        return true;
                    }
                }
                Ok(None) => self.ended += 1,
                Err(error) => panic!("{error}: no line came, after {:#?}", self.seen),
            }
        }
        false
    }

    /// Posts `body` to `/invoke` with `request_id`, on a connection of its own, and reads the
    /// whole answer.
    fn invoke(&self, request_id: &str, body: &str) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "POST /invoke HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: {request_id}\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    /// Kills the process and returns every line it wrote, stdout's and stderr's.
    fn kill(mut self) -> Vec<String> {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.wait_for(|_| false);
        std::mem::take(&mut self.seen)
    }
}

impl Drop for PanickingFunction {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_panic_is_one_log_line_and_the_instance_keeps_serving() {
    let mut function = PanickingFunction::start();
    let answer = function.invoke("req-panic", "panic");
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(answer.contains("x-fc-status: 404"), "{answer}");
    assert!(answer.contains(r#""errorType":"Panic""#), "{answer}");
    let answer = function.invoke("req-after", "hello");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(r#""served""#), "{answer}");
    assert!(function.wait_for(|line| line == "FC Invoke End RequestId: req-after"));
    let lines = function.kill();

    // One line says where and why it panicked, tagged with the invocation's request id, the
    // message escaped (the invocation's `Invoke failed` line holds it too, escaped as well).
    let panicked: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("panicked at"))
        .collect();
    assert_eq!(panicked.len(), 1, "{lines:#?}");
    let escaped = r"a\nFC Invoke End RequestId: real-1\r\u{202e}b";
    let (_, after_time) = panicked[0].split_once(' ').unwrap();
    assert!(
        after_time.starts_with("req-panic [ERROR] panicked at crates/fc-runtime/src/tests.rs:")
            && after_time.ends_with(&format!(": {escaped}")),
        "{lines:#?}"
    );
    // Neither the panic nor anything else wrote a line of its own from the message.
    let markers: Vec<&str> = lines
        .iter()
        .filter(|line| line.starts_with("FC "))
        .map(String::as_str)
        .collect();
    assert_eq!(
        markers,
        [
            "FC Invoke Start RequestId: req-panic",
            "FC Invoke End RequestId: req-panic",
            "FC Invoke Start RequestId: req-after",
            "FC Invoke End RequestId: req-after",
        ],
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .all(|line| !line.contains(['\r', '\u{202e}']) && line != "b"),
        "{lines:#?}"
    );
}

/// Kills `<impl Drop for EndLine>::drop` -> `()`: an invocation dropped before its answer was
/// ready (its body stalled, so its connection was closed under it) still writes its End line.
#[test]
fn a_stalled_body_still_writes_its_end_line() {
    use std::io::Write;
    let mut function = PanickingFunction::start();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", function.port)).unwrap();
    write!(
        stream,
        "POST /invoke HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-stalled\r\n\
         content-length: 10\r\n\r\nab"
    )
    .unwrap();
    assert!(function.wait_for(|line| line == "FC Invoke Start RequestId: req-stalled"));
    assert!(function.wait_for(|line| line.ends_with(
        "req-stalled [ERROR] Invoke failed: the connection closed before the answer was ready"
    )));
    assert!(function.wait_for(|line| line == "FC Invoke End RequestId: req-stalled"));
    drop(stream);
}

/// Kills `<impl Drop for InvokeEnd>::drop` -> `()`: an HTTP-trigger invocation writes its End
/// line once its answer is out.
#[cfg(feature = "http")]
#[test]
fn an_http_invocation_writes_its_end_line() {
    use std::io::{Read, Write};
    let mut function = PanickingFunction::start_as("http");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", function.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /page HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-page\r\n\
         x-fc-control-path: /http-invoke\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("page"), "{answer}");
    assert!(function.wait_for(|line| line == "FC Invoke Start RequestId: req-page"));
    assert!(function.wait_for(|line| line == "FC Invoke End RequestId: req-page"));
}

/// Kills `Runtime::run_http` -> `Ok(())` (runtime.rs): a function started with `run_http` serves
/// HTTP-trigger requests, and an event fails with `NoEventHandler`.
#[cfg(feature = "http")]
#[test]
fn an_http_only_function_serves_pages_and_fails_events() {
    use std::io::{Read, Write};
    let function = PanickingFunction::start_as("http-only");
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", function.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /page HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-page\r\n\
         x-fc-control-path: /http-invoke\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("page"), "{answer}");
    let answer = function.invoke("req-event", "{}");
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        answer.contains(r#""errorType":"NoEventHandler""#),
        "{answer}"
    );
}

/// Kills `LineQueue::write_forever` -> `()` (logger.rs): a line too long to be written at once
/// is queued, and the log thread writes it.
#[test]
fn a_line_longer_than_an_atomic_write_reaches_stdout() {
    let mut function = PanickingFunction::start();
    let answer = function.invoke("req-long", "long");
    assert!(answer.ends_with(r#""served""#), "{answer}");
    let long = "l".repeat(LONG_LINE);
    assert!(function.wait_for(|line| line.ends_with(&format!("req-long [INFO] {long}"))));
}

//! The real `hello` binary, started as FC starts it and driven over HTTP with FC's headers.

// clippy.toml's allow-unwrap-in-tests covers #[test] functions only, not this file's helpers.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

/// The error of a failed call.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A keep-alive HTTP/1.1 client: FC's front end keeps its connections to an instance too.
type Client = hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>;

fn client() -> Client {
    hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http()
}

/// One answer, read whole.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    /// The body as JSON; `null` when it is none.
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends `method url` with `headers` and `body`, and reads the whole answer.
async fn call(
    client: &Client,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &'static str,
) -> Result<Answer, BoxError> {
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::from_static(body.as_bytes())))?;
    let response = client.request(request).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// A running `hello` with its captured stdout.
struct Function {
    child: Child,
    url: String,
    stdout: Arc<Mutex<Vec<String>>>,
}

impl Function {
    /// Starts the binary on a free port; tries another port if one was taken meanwhile.
    fn start() -> Self {
        Self::start_with(None, true)
    }

    /// As [`Function::start`], with the process's open-file limit (`ulimit -n`) set first.
    fn start_with_fd_limit(fd_limit: Option<u32>) -> Self {
        Self::start_with(fd_limit, true)
    }

    /// As [`Function::start`]; unless `drain`, stdout is read only up to the line saying that
    /// the function listens, then left unread: a pipe nobody drains.
    fn start_with(fd_limit: Option<u32>, drain: bool) -> Self {
        for _ in 0..5 {
            if let Some(function) = Self::try_start(fd_limit, drain) {
                return function;
            }
        }
        panic!("hello did not start");
    }

    fn try_start(fd_limit: Option<u32>, drain: bool) -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let binary = env!("CARGO_BIN_EXE_hello");
        let mut command = match fd_limit {
            // `exec` keeps the pid, so signals still reach the function itself.
            Some(limit) => {
                let mut command = Command::new("sh");
                command.args([
                    "-c",
                    r#"ulimit -n "$1" && exec "$0""#,
                    binary,
                    &limit.to_string(),
                ]);
                command
            }
            None => Command::new(binary),
        };
        let mut child = command
            .env("FC_CUSTOM_LISTEN_PORT", port.to_string())
            .env_remove("FC_SERVER_PORT")
            .env_remove("RUST_LOG")
            .env_remove("FC_LOG_LEVEL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let lines = BufReader::new(child.stdout.take().unwrap());
        let sink = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                let listening = line.contains("listening on");
                sink.lock().unwrap().push(line);
                if listening && !drain {
                    // Keeps the pipe open, unread, for as long as the test runs.
                    loop {
                        std::thread::park();
                    }
                }
            }
        });
        let started = Instant::now();
        let ready = format!("listening on 0.0.0.0:{port}");
        while !stdout
            .lock()
            .unwrap()
            .iter()
            .any(|line: &String| line.ends_with(&ready))
        {
            if child.try_wait().unwrap().is_some() {
                return None;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "hello did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            stdout,
        })
    }

    fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits up to `limit` for `line` on stdout.
    async fn wait_for_line(&self, line: &str, limit: Duration) {
        let started = Instant::now();
        while !self.stdout().iter().any(|seen| seen == line) {
            assert!(
                started.elapsed() < limit,
                "no {line:?} within {limit:?} in {:#?}",
                self.stdout()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn address(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit.
    async fn exit_status(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "hello did not exit within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Posts `body` to `/invoke` with FC's headers; returns status, x-fc-status and JSON body.
async fn invoke(
    client: &Client,
    function: &Function,
    id: &str,
    body: &'static str,
) -> (u16, String, Value) {
    let headers = [
        ("x-fc-request-id", id),
        ("x-fc-function-name", "hello"),
        ("x-fc-function-memory", "128"),
        ("content-type", "application/octet-stream"),
    ];
    let url = format!("{}/invoke", function.url);
    let answer = call(client, Method::POST, &url, &headers, body)
        .await
        .unwrap();
    let fc_status = answer
        .headers
        .get("x-fc-status")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (answer.status, fc_status, answer.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_succeed_fail_and_survive_panics() {
    let function = Function::start();
    let client = client();

    let (status, fc_status, body) = invoke(&client, &function, "req-ok", r#"{"name":"Ada"}"#).await;
    assert_eq!((status, fc_status.as_str()), (200, "200"));
    assert_eq!(
        body,
        json!({"message": "Hello, Ada!", "request_id": "req-ok"})
    );

    let (status, fc_status, body) =
        invoke(&client, &function, "req-fail", r#"{"fail":true}"#).await;
    assert_eq!((status, fc_status.as_str()), (404, "404"));
    assert_eq!(
        body,
        json!({"errorType": "GreetError", "errorMessage": "failing on purpose, as the payload asked"})
    );

    let (status, fc_status, body) =
        invoke(&client, &function, "req-panic", r#"{"panic":true}"#).await;
    assert_eq!((status, fc_status.as_str()), (404, "404"));
    assert_eq!(
        body,
        json!({"errorType": "Panic", "errorMessage": "panicking on purpose, as the payload asked"})
    );

    let (status, _, body) = invoke(&client, &function, "req-after", "{}").await;
    assert_eq!(status, 200);
    assert_eq!(body["message"], "Hello, world!");

    let (status, fc_status, body) = invoke(&client, &function, "req-bad", r#"{"name":42}"#).await;
    assert_eq!((status, fc_status.as_str()), (404, "404"));
    assert_eq!(body["errorType"], "InvalidPayload");
    assert!(
        body["errorMessage"].as_str().unwrap().contains("`name`"),
        "{body}"
    );

    // An oversized upload is refused from its Content-Length, before the body is sent.
    let answer = raw_request(
        &function,
        "POST /invoke HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-big\r\ncontent-length: 33554433\r\nconnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("x-fc-status: 404"), "{answer}");
    assert!(answer.contains("33554432 bytes"), "{answer}");

    let url = |path: &str| format!("{}{path}", function.url);
    let answer = call(&client, Method::GET, &url("/nowhere"), &[], "")
        .await
        .unwrap();
    assert_eq!(answer.status, 404);
    assert_eq!(answer.headers["x-fc-status"], "404");
    let answer = call(&client, Method::GET, &url("/invoke"), &[], "")
        .await
        .unwrap();
    assert_eq!(answer.status, 405);

    // No x-fc-* header at all: a local request id, and a normal answer.
    let answer = call(&client, Method::POST, &url("/invoke"), &[], "{}")
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let body = answer.json();
    assert!(body["request_id"].as_str().unwrap().starts_with("local-"));

    function
        .wait_for_line("FC Invoke End RequestId: req-big", Duration::from_secs(5))
        .await;
    let stdout = function.stdout();
    for id in [
        "req-ok",
        "req-fail",
        "req-panic",
        "req-after",
        "req-bad",
        "req-big",
    ] {
        let start = format!("FC Invoke Start RequestId: {id}");
        let end = format!("FC Invoke End RequestId: {id}");
        let start_at = stdout
            .iter()
            .position(|line| *line == start)
            .unwrap_or_else(|| panic!("no {start} in {stdout:#?}"));
        let end_at = stdout
            .iter()
            .position(|line| *line == end)
            .unwrap_or_else(|| panic!("no {end}"));
        assert!(start_at < end_at);
    }
    // A failure is logged under the invocation's own request id.
    let failure = stdout
        .iter()
        .find(|line| line.contains("[ERROR] Invoke failed: GreetError"))
        .unwrap_or_else(|| panic!("no failure line in {stdout:#?}"));
    assert!(failure.contains(" req-fail [ERROR] "), "{failure}");
    let greeting = stdout
        .iter()
        .find(|line| line.ends_with("[INFO] greeting Ada"))
        .unwrap();
    assert!(greeting.contains(" req-ok [INFO] "), "{greeting}");
    assert!(
        greeting.ends_with("Z req-ok [INFO] greeting Ada"),
        "{greeting}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_invocations_all_answer() {
    let function = Function::start();
    let client = client();
    let started = Instant::now();
    let calls = (0..50).map(|n| {
        let client = client.clone();
        let function = &function;
        async move {
            invoke(
                &client,
                function,
                &format!("req-{n}"),
                r#"{"sleep_ms":300}"#,
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    for (n, (status, _, body)) in answers.into_iter().enumerate() {
        assert_eq!(status, 200);
        assert_eq!(body["request_id"], format!("req-{n}"));
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "invocations were not concurrent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_inflight_invocation_finish_then_exits_0() {
    let mut function = Function::start();
    let inflight = {
        let url = format!("{}/invoke", function.url);
        tokio::spawn(async move {
            let headers = [("x-fc-request-id", "req-slow")];
            call(
                &client(),
                Method::POST,
                &url,
                &headers,
                r#"{"sleep_ms":1000}"#,
            )
            .await
        })
    };
    // SIGTERM once the invocation runs, not before it arrives.
    function
        .wait_for_line(
            "FC Invoke Start RequestId: req-slow",
            Duration::from_secs(5),
        )
        .await;
    function.terminate();
    let answer = inflight.await.unwrap().unwrap();
    assert_eq!(answer.status, 200);
    let status = function.exit_status(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0));
    assert!(function
        .stdout()
        .contains(&"FC Invoke End RequestId: req-slow".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_idle_keep_alive_connections_and_exits_0() {
    let mut function = Function::start();
    // A finished request leaves this client an idle keep-alive connection to the function.
    let client = client();
    let (status, _, _) = invoke(&client, &function, "req-idle", "{}").await;
    assert_eq!(status, 200);
    function.terminate();
    // The grace period is not waited out: the idle connection is closed at once.
    let status = function.exit_status(Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(0));
    drop(client);
}

/// Sends `request` as written over a plain TCP connection and returns the whole answer.
fn raw_request(function: &Function, request: &str) -> String {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(function.address()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut stream, &mut answer);
    answer
}

/// `STOP_GRACE_S` of the local emulator: how long it lets a bootstrap stop after SIGTERM before
/// it kills it. The runtime's own grace period must fit in it.
fn emulator_stop_grace() -> Duration {
    let source = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/local/instance.py"
    ));
    let value = source
        .lines()
        .find_map(|line| line.strip_prefix("STOP_GRACE_S = "))
        .unwrap_or_else(|| panic!("infra/local/instance.py defines no STOP_GRACE_S"));
    Duration::from_secs_f64(value.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_within_the_emulators_grace_while_work_is_in_flight() {
    let mut function = Function::start();
    let call = {
        let url = format!("{}/invoke", function.url);
        tokio::spawn(async move {
            let headers = [("x-fc-request-id", "req-stuck")];
            call(
                &client(),
                Method::POST,
                &url,
                &headers,
                r#"{"sleep_ms":60000}"#,
            )
            .await
        })
    };
    function
        .wait_for_line(
            "FC Invoke Start RequestId: req-stuck",
            Duration::from_secs(5),
        )
        .await;
    let grace = emulator_stop_grace();
    let signalled = Instant::now();
    function.terminate();
    let status = function.exit_status(grace).await;
    let stopped_after = signalled.elapsed();
    assert_eq!(status.code(), Some(0));
    // The invocation was abandoned, not answered, and the runtime said so.
    assert!(call.await.unwrap().is_err());
    assert!(
        function
            .stdout()
            .iter()
            .any(|line| line.contains("in-flight invocations did not finish within")),
        "{:#?}",
        function.stdout()
    );
    eprintln!("stopped {stopped_after:?} after SIGTERM (emulator grace {grace:?})");
}

#[test]
fn an_oversized_body_sent_at_once_still_gets_its_413() {
    use std::io::{Read, Write};
    const MIB: usize = 1024 * 1024;
    let function = Function::start();
    let mut stream = std::net::TcpStream::connect(function.address()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /invoke HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-flood\r\n\
         content-type: application/octet-stream\r\ncontent-length: {}\r\n\r\n",
        40 * MIB
    );
    // Everything at once, without reading the answer first, as a plain blocking client does.
    // The runtime answers 413 from Content-Length at once; it must then read and drop the
    // body: a socket closed with unread data is reset, and this client's next write fails
    // with a broken pipe, which is all most clients report (Linux would still let a client
    // that ignores the error read the 413: the reset does not purge its receive queue).
    let mut sent = stream.write_all(head.as_bytes()).map(|()| 0);
    let chunk = vec![b'x'; MIB];
    while let Ok(bytes) = sent {
        if bytes == 40 * MIB {
            break;
        }
        sent = stream.write_all(&chunk).map(|()| bytes + MIB);
    }
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "sent {sent:?}, read {read:?}: {answer:?}"
    );
    assert_eq!(
        sent.ok(),
        Some(40 * MIB),
        "the body was not taken: {answer}"
    );
    // The connection ends after the answer: `read_to_end` saw it closed.
    assert!(read.is_ok(), "{read:?}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(answer.contains("x-fc-status: 404"), "{answer}");
    assert!(
        answer.contains(r#"{"errorType":"PayloadTooLarge","errorMessage":"request body exceeds the limit of 33554432 bytes"}"#),
        "{answer}"
    );
    // A test without a runtime of its own: one to wait in.
    tokio::runtime::Runtime::new().unwrap().block_on(
        function.wait_for_line("FC Invoke End RequestId: req-flood", Duration::from_secs(5)),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_beyond_the_fd_limit_do_not_lock_out_invocations() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SLOW_CLIENTS: usize = 200;
    // Fewer descriptors than slow clients: without a connection cap below the fd limit the
    // runtime runs out of descriptors and never accepts the invocation below.
    let function = Function::start_with_fd_limit(Some(128));
    let (closed_tx, mut closed) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..SLOW_CLIENTS {
        let mut stream = tokio::net::TcpStream::connect(function.address())
            .await
            .unwrap();
        stream
            .write_all(b"POST /invoke HTTP/1.1\r\nhost: fc\r\n")
            .await
            .unwrap();
        let closed_tx = closed_tx.clone();
        // One more header byte a second, until the runtime hangs up.
        tokio::spawn(async move {
            let mut buffer = [0; 64];
            loop {
                tokio::select! {
                    _ = stream.read(&mut buffer) => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {
                        if stream.write_all(b"x").await.is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = closed_tx.send(());
        });
    }
    let started = Instant::now();
    let headers = [("x-fc-request-id", "req-under-load")];
    let url = format!("{}/invoke", function.url);
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        call(&client(), Method::POST, &url, &headers, r#"{"name":"Ada"}"#),
    )
    .await
    .expect("the invocation got through")
    .unwrap();
    let latency = started.elapsed();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["message"], "Hello, Ada!");
    assert!(latency < Duration::from_secs(2), "took {latency:?}");
    // The runtime held at most half its 128 descriptors' worth and shed the rest.
    let mut shed = 0;
    while shed < SLOW_CLIENTS - 64 {
        tokio::time::timeout(Duration::from_secs(5), closed.recv())
            .await
            .unwrap_or_else(|_| panic!("only {shed} slow clients were shed"))
            .unwrap();
        shed += 1;
    }
    eprintln!("{SLOW_CLIENTS} slow clients, {shed} shed at once: an invocation took {latency:?}");
}

/// The lines of `stdout` that start a new log line or are FC's markers: every line the
/// function writes is one of these.
fn is_whole_line(line: &str) -> bool {
    line.starts_with("FC ") || line.get(23..25) == Some("Z ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_text_cannot_forge_or_split_log_lines() {
    let function = Function::start();
    let client = client();
    // serde quotes the unknown key, newline and all, in the runtime's error line.
    let (status, _, body) = invoke(
        &client,
        &function,
        "forge-1",
        r#"{"a\nFC Invoke End RequestId: real-1":1}"#,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["errorType"], "InvalidPayload");
    // hello's own line quotes the name; bidi and zero-width characters are shown, not obeyed.
    let (status, _, _) = invoke(
        &client,
        &function,
        "forge-2",
        r#"{"name":"Ada\r\nFC Invoke End RequestId: real-2\u202egnp.exe\u200b"}"#,
    )
    .await;
    assert_eq!(status, 200);
    function
        .wait_for_line("FC Invoke End RequestId: forge-2", Duration::from_secs(5))
        .await;
    let stdout = function.stdout();
    assert!(stdout.iter().all(|line| is_whole_line(line)), "{stdout:#?}");
    for forged in ["real-1", "real-2"] {
        let forged = format!("FC Invoke End RequestId: {forged}");
        assert!(!stdout.contains(&forged), "{stdout:#?}");
    }
    assert!(
        stdout.iter().any(|line| line
            .ends_with(r"greeting Ada\r\nFC Invoke End RequestId: real-2\u{202e}gnp.exe\u{200b}")),
        "{stdout:#?}"
    );
    assert!(
        stdout.iter().any(|line| line.contains(
            r"Invoke failed: invalid payload at `a\nFC Invoke End RequestId: real-1`: unknown field `a\nFC Invoke End RequestId: real-1`"
        )),
        "{stdout:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reset_in_the_middle_of_an_invocation_still_gets_its_end_line() {
    use tokio::io::AsyncWriteExt;
    let function = Function::start();
    let mut stream = tokio::net::TcpStream::connect(function.address())
        .await
        .unwrap();
    let body = r#"{"sleep_ms":300}"#;
    let request = format!(
        "POST /invoke HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-reset\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    function
        .wait_for_line(
            "FC Invoke Start RequestId: req-reset",
            Duration::from_secs(5),
        )
        .await;
    // A reset (RST), not a clean close. (The deprecation warns that a lingering close blocks;
    // a zero linger resets at once.)
    #[allow(deprecated)]
    stream.set_linger(Some(Duration::ZERO)).unwrap();
    drop(stream);
    function
        .wait_for_line("FC Invoke End RequestId: req-reset", Duration::from_secs(5))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdout_nobody_reads_does_not_stop_invocations() {
    let function = Function::start_with(None, false);
    let client = client();
    // Each invocation logs about 4 KB: 2,000 of them are 8 MB, past the pipe's 64 KiB and
    // the runtime's 4 MiB queue.
    let body: &'static str = Box::leak(format!(r#"{{"name":"{}"}}"#, "n".repeat(4000)).into());
    let started = Instant::now();
    for n in 0..2000 {
        let id = format!("req-{n}");
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            invoke(&client, &function, &id, body),
        )
        .await
        .unwrap_or_else(|_| panic!("invocation {n} timed out"));
        assert_eq!(answer.0, 200, "invocation {n}");
    }
    eprintln!(
        "2000 invocations with stdout unread in {:?}",
        started.elapsed()
    );
}

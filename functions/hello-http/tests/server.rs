//! The real `hello-http` binary, started as FC starts it and sent what FC's HTTP trigger sends:
//! the client's request with FC's `x-fc-*` headers and `x-fc-control-path: /http-invoke`.

// clippy.toml's allow-unwrap-in-tests covers #[test] functions only, not this file's helpers.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long any one wait of these tests may take.
const PATIENCE: Duration = Duration::from_secs(10);

/// A running `hello-http` and its stdout, line by line.
struct Function {
    child: Child,
    port: u16,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Function {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_hello-http"))
            .env("FC_CUSTOM_LISTEN_PORT", port.to_string())
            .env("FC_FUNCTION_NAME", "hello-http")
            .env_remove("FC_SERVER_PORT")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (sender, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut function = Self {
            child,
            port,
            lines,
            seen: Vec::new(),
        };
        function.wait_for(&format!("listening on 0.0.0.0:{port}"));
        function
    }

    /// Waits for a stdout line ending with `text`.
    fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.seen.iter().any(|line| line.ends_with(text)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no line ending with {text:?} in {:#?}", self.seen),
            }
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request as FC's HTTP trigger forwards it.
fn trigger(method: &str, target: &str, id: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: {id}\r\n\
         x-fc-function-name: hello-http\r\nx-fc-control-path: /http-invoke\r\n{headers}\
         content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// One answer: status, head (lowercase) and body, with each body piece's arrival time.
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
    /// When each chunk of a chunked body arrived, with its bytes.
    chunks: Vec<(Instant, Vec<u8>)>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.head
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
            .map(str::trim)
    }
}

/// Reads one answer (a `content-length` or a chunked body) from the connection.
fn read_answer(reader: &mut BufReader<TcpStream>) -> Answer {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "closed: {head}");
        head.push_str(&line.to_lowercase());
        if line == "\r\n" {
            break;
        }
    }
    let status = head[9..12].parse().unwrap();
    let mut answer = Answer {
        status,
        head,
        body: Vec::new(),
        chunks: Vec::new(),
    };
    if let Some(length) = answer.header("content-length") {
        let mut body = vec![0; length.parse().unwrap()];
        reader.read_exact(&mut body).unwrap();
        answer.body = body;
        return answer;
    }
    assert_eq!(answer.header("transfer-encoding"), Some("chunked"));
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).unwrap();
        chunk.truncate(size);
        if size == 0 {
            return answer;
        }
        answer.body.extend_from_slice(&chunk);
        answer.chunks.push((Instant::now(), chunk));
    }
}

fn ask(reader: &mut BufReader<TcpStream>, request: &[u8]) -> Answer {
    reader.get_mut().write_all(request).unwrap();
    read_answer(reader)
}

#[test]
fn every_route_answers_over_one_keep_alive_connection() {
    let mut function = Function::start();
    let mut reader = BufReader::new(function.connect());

    let answer = ask(
        &mut reader,
        &trigger("GET", "/hello/Ad%C3%A0", "req-hello", "", b""),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.json(), json!({"message": "Hello, Adà!"}));

    let bytes: Vec<u8> = (0..=255).cycle().take(100_000).collect();
    let headers = "content-type: application/x-bytes\r\n";
    let answer = ask(
        &mut reader,
        &trigger("POST", "/echo", "req-echo", headers, &bytes),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/x-bytes"));
    assert_eq!(answer.body, bytes);

    let answer = ask(
        &mut reader,
        &trigger("GET", "/context", "req-context", "", b""),
    );
    assert_eq!(
        answer.json(),
        json!({"request_id": "req-context", "function_name": "hello-http"})
    );

    let answer = ask(
        &mut reader,
        &trigger("GET", "/nowhere", "req-none", "", b""),
    );
    assert_eq!(answer.status, 404);

    // An event, on the same connection: FC's POST /invoke without the control path.
    let event = b"POST /invoke HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-event\r\n\
                  content-length: 14\r\n\r\n{\"name\":\"Ada\"}";
    let answer = ask(&mut reader, event);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("x-fc-status"), Some("200"));
    assert_eq!(answer.json(), json!({"message": "Hello, Ada!"}));

    // No reserved header comes from the function, and it never asked to close.
    assert!(!answer.head.contains("connection: close"));
    for id in [
        "req-hello",
        "req-echo",
        "req-context",
        "req-none",
        "req-event",
    ] {
        function.wait_for(&format!("FC Invoke End RequestId: {id}"));
        let start = format!("FC Invoke Start RequestId: {id}");
        assert!(function.seen.contains(&start), "no {start}");
    }
}

#[test]
fn events_stream_one_by_one_and_end_the_invocation_when_done() {
    let mut function = Function::start();
    let mut reader = BufReader::new(function.connect());
    let answer = ask(&mut reader, &trigger("GET", "/events", "req-sse", "", b""));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    assert_eq!(
        answer.body,
        b"data: event 1\n\ndata: event 2\n\ndata: event 3\n\n"
    );
    // One chunk per event, each arriving about 100 ms after the one before: streamed.
    let times: Vec<Instant> = answer.chunks.iter().map(|(at, _)| *at).collect();
    assert_eq!(times.len(), 3, "{:?}", answer.chunks);
    for pair in times.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(80), "{times:?}");
    }
    function.wait_for("FC Invoke End RequestId: req-sse");
}

#[test]
fn a_body_over_32_mib_is_refused_with_413() {
    let function = Function::start();
    let mut reader = BufReader::new(function.connect());
    let head = "POST /echo HTTP/1.1\r\nhost: fc\r\nx-fc-control-path: /http-invoke\r\n\
                content-length: 33554433\r\n\r\n";
    let answer = ask(&mut reader, head.as_bytes());
    assert_eq!(answer.status, 413);
    assert!(String::from_utf8_lossy(&answer.body).contains("33554432 bytes"));
}

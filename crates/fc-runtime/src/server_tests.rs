//! The server on a real socket: timeouts, the connection cap, refused bodies and shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::runtime::default_max_connections;
use crate::server::{frozen_for, serve, Connections};
use crate::{Event, Runtime, DEFAULT_MAX_CONNECTIONS};

on_both_runtime_flavours!(
    a_stalled_request_head_is_closed_after_the_header_read_timeout,
    a_keep_alive_connection_idle_longer_than_the_header_read_timeout_stays_open,
    idle_connections_are_closed_after_the_idle_timeout_but_requests_in_flight_are_not,
    slow_clients_beyond_the_cap_do_not_lock_out_invocations,
    at_the_cap_with_every_request_in_flight_a_new_connection_waits,
    a_body_refused_before_it_was_read_is_read_and_dropped_so_the_client_gets_the_answer,
    shutdown_closes_idle_connections_at_once_and_waits_for_work_only_the_grace,
    a_stalled_body_is_closed_after_the_body_read_timeout,
    stalled_bodies_beyond_the_cap_do_not_lock_out_invocations,
    a_large_body_waits_for_body_memory_but_a_small_one_does_not,
    an_unread_answer_is_dropped_after_the_write_timeout,
    an_unread_answer_keeps_its_body_memory_until_it_is_dropped,
    a_client_that_half_closes_after_its_request_gets_the_answer,
    a_head_up_to_32_kib_is_served_and_a_larger_one_refused,
    bodies_that_fit_in_the_body_memory_together_are_read_together,
    an_answer_written_out_gives_its_body_memory_back,
);

/// A request head the client never finishes.
const STALLED_HEAD: &[u8] = b"POST /invoke HTTP/1.1\r\nhost: fc\r\n";

/// A complete head promising a body of `length` bytes.
fn body_head(length: usize) -> Vec<u8> {
    format!(
        "POST /invoke HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-body\r\ncontent-length: {length}\r\n\r\n"
    )
    .into_bytes()
}

/// Echoes the payload, after `sleep_ms` when it has one.
async fn echo(event: Event<Value>) -> Result<Value, std::convert::Infallible> {
    if let Some(sleep_ms) = event.payload["sleep_ms"].as_u64() {
        tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
    }
    Ok(event.payload)
}

/// [`serve`] on a free loopback port, stopped by [`Server::stop`].
struct Server {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    /// One message each time an invocation reaches the handler.
    started: mpsc::UnboundedReceiver<()>,
}

impl Server {
    async fn start(runtime: Runtime) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let settings = runtime.settings();
        let (started_tx, started) = mpsc::unbounded_channel();
        let app = runtime.app(move |event: Event<Value>| {
            let _ = started_tx.send(());
            echo(event)
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve(listener, app, shutdown, settings));
        Self {
            address,
            stop: Some(stop),
            task,
            started,
        }
    }

    /// Waits until `count` more invocations have reached the handler.
    async fn invocations_started(&mut self, count: usize) {
        for _ in 0..count {
            tokio::time::timeout(Duration::from_secs(5), self.started.recv())
                .await
                .expect("an invocation reached the handler within 5 s")
                .unwrap();
        }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.address).await.unwrap()
    }

    fn stop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
    }
}

/// A `POST /invoke` with `body`, on a keep-alive connection.
fn invoke_request(body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "POST /invoke HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-1\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one answer (head and `content-length` body) from `stream`.
async fn read_answer(stream: &mut TcpStream) -> (String, String) {
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            break at + 4;
        }
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(
            read > 0,
            "closed before the answer: {:?}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    while received.len() < head_end + length {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "closed in the answer's body");
        received.extend_from_slice(&buffer[..read]);
    }
    let body = String::from_utf8_lossy(&received[head_end..head_end + length]).into_owned();
    (head, body)
}

/// Waits up to `limit` for the peer to close `stream`; how long that took.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buffer = [0; 1024];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buffer)).await {
            Err(_) => panic!("the connection was still open after {limit:?}"),
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

/// Opens `count` connections that each send a stalled head and then one more byte a second;
/// each reports on the channel when the server closes it.
async fn slow_clients(server: &Server, count: usize) -> mpsc::UnboundedReceiver<()> {
    let (closed_tx, closed) = mpsc::unbounded_channel();
    for _ in 0..count {
        let mut stream = server.connect().await;
        stream.write_all(STALLED_HEAD).await.unwrap();
        let closed_tx = closed_tx.clone();
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
    closed
}

async fn a_stalled_request_head_is_closed_after_the_header_read_timeout() {
    let timeout = Duration::from_millis(300);
    let server = Server::start(Runtime::new().header_read_timeout(timeout)).await;
    let mut stream = server.connect().await;
    stream.write_all(STALLED_HEAD).await.unwrap();
    let started = Instant::now();
    // A byte every 50 ms: the connection is never idle, only its head is late.
    let mut buffer = [0; 64];
    loop {
        tokio::select! {
            read = stream.read(&mut buffer) => {
                assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
                break;
            }
            () = tokio::time::sleep(Duration::from_millis(50)) => {
                if stream.write_all(b"x").await.is_err() {
                    break;
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "still open after 3 s"
        );
    }
    let open_for = started.elapsed();
    assert!(open_for >= timeout, "closed after {open_for:?}");
    // A complete request is still served.
    let mut stream = server.connect().await;
    stream
        .write_all(&invoke_request(&json!({"n": 1})))
        .await
        .unwrap();
    let (head, body) = read_answer(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, r#"{"n":1}"#);
}

async fn a_keep_alive_connection_idle_longer_than_the_header_read_timeout_stays_open() {
    // hyper's own header_read_timeout would close it: it also runs between requests.
    let timeout = Duration::from_millis(200);
    let server = Server::start(Runtime::new().header_read_timeout(timeout)).await;
    let mut stream = server.connect().await;
    for n in 0..2 {
        stream
            .write_all(&invoke_request(&json!({"n": n})))
            .await
            .unwrap();
        let (head, body) = read_answer(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body, format!(r#"{{"n":{n}}}"#));
        tokio::time::sleep(timeout * 3).await;
    }
}

async fn idle_connections_are_closed_after_the_idle_timeout_but_requests_in_flight_are_not() {
    let timeout = Duration::from_millis(300);
    let server = Server::start(
        Runtime::new()
            .idle_timeout(timeout)
            .header_read_timeout(timeout),
    )
    .await;
    // A request that runs longer than both timeouts is answered.
    let mut stream = server.connect().await;
    stream
        .write_all(&invoke_request(&json!({"sleep_ms": 1000})))
        .await
        .unwrap();
    let (head, _) = read_answer(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // Then the keep-alive connection is idle, and closed after the idle timeout.
    let idle_for = closed_within(&mut stream, Duration::from_secs(3)).await;
    assert!(
        idle_for >= timeout - Duration::from_millis(20),
        "{idle_for:?}"
    );
    // A connection that never sends anything goes the same way.
    let mut silent = server.connect().await;
    closed_within(&mut silent, Duration::from_secs(3)).await;
}

/// An invocation is answered within a second while the server is at its connection cap, and
/// `shed` of the connections that filled it are closed (each reports on `closed`); its latency.
async fn an_invocation_gets_through_and_the_rest_is_shed(
    server: &Server,
    mut closed: mpsc::UnboundedReceiver<()>,
    shed: usize,
) -> Duration {
    let started = Instant::now();
    let mut stream = server.connect().await;
    stream
        .write_all(&invoke_request(&json!({"name": "Ada"})))
        .await
        .unwrap();
    let (head, body) = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut stream))
        .await
        .expect("the invocation got through");
    let latency = started.elapsed();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, r#"{"name":"Ada"}"#);
    assert!(latency < Duration::from_secs(1), "took {latency:?}");
    // Everything beyond the cap was shed (the invocation's connection holds one slot).
    for done in 0..shed {
        tokio::time::timeout(Duration::from_secs(5), closed.recv())
            .await
            .unwrap_or_else(|_| panic!("only {done} of {shed} connections were shed"))
            .unwrap();
    }
    latency
}

async fn slow_clients_beyond_the_cap_do_not_lock_out_invocations() {
    const CAP: usize = 20;
    const SLOW_CLIENTS: usize = 200;
    // The default 10 s header-read timeout: only the cap can let the invocation through.
    let server = Server::start(Runtime::new().max_connections(CAP)).await;
    let closed = slow_clients(&server, SLOW_CLIENTS).await;
    let latency =
        an_invocation_gets_through_and_the_rest_is_shed(&server, closed, SLOW_CLIENTS - (CAP - 1))
            .await;
    eprintln!(
        "{SLOW_CLIENTS} slow clients, at most {CAP} connections: an invocation took {latency:?}"
    );
}

async fn at_the_cap_with_every_request_in_flight_a_new_connection_waits() {
    let mut server = Server::start(Runtime::new().max_connections(2)).await;
    let mut busy = Vec::new();
    for _ in 0..2 {
        let mut stream = server.connect().await;
        stream
            .write_all(&invoke_request(&json!({"sleep_ms": 500})))
            .await
            .unwrap();
        busy.push(stream);
    }
    // Both requests run before the third connection arrives.
    server.invocations_started(2).await;
    let started = Instant::now();
    let mut third = server.connect().await;
    third
        .write_all(&invoke_request(&json!({"n": 3})))
        .await
        .unwrap();
    let (head, body) = read_answer(&mut third).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, r#"{"n":3}"#);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    for mut stream in busy {
        let (head, _) = read_answer(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
}

async fn a_body_refused_before_it_was_read_is_read_and_dropped_so_the_client_gets_the_answer() {
    const MIB: usize = 1024 * 1024;
    let server = Server::start(Runtime::new().max_body_bytes(1024)).await;
    for (declared, expect_all_sent) in [(8 * MIB, true), (100 * MIB, false)] {
        let mut stream = server.connect().await;
        let head = format!(
            "POST /invoke HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-big\r\ncontent-length: {declared}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b'x'; MIB];
        let mut sent = 0;
        while sent < declared && stream.write_all(&chunk).await.is_ok() {
            sent += MIB;
        }
        if expect_all_sent {
            assert_eq!(sent, declared);
        } else {
            // Only so much is read and thrown away; then the connection is closed.
            assert!((64 * MIB..declared).contains(&sent), "{sent}");
        }
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
            .await
            .expect("the connection was closed after the answer");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{declared}: {answer:?}");
        assert!(answer.contains("x-fc-status: 404"), "{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
        assert!(
            answer.ends_with(
                r#"{"errorType":"PayloadTooLarge","errorMessage":"request body exceeds the limit of 1024 bytes"}"#
            ),
            "{answer}"
        );
    }
}

async fn shutdown_closes_idle_connections_at_once_and_waits_for_work_only_the_grace() {
    let grace = Duration::from_secs(1);
    let mut server = Server::start(Runtime::new().shutdown_timeout(grace)).await;
    let mut idle = server.connect().await;
    idle.write_all(&invoke_request(&json!({}))).await.unwrap();
    read_answer(&mut idle).await;
    let mut stalled = server.connect().await;
    stalled.write_all(STALLED_HEAD).await.unwrap();
    let mut working = server.connect().await;
    working
        .write_all(&invoke_request(&json!({"sleep_ms": 60_000})))
        .await
        .unwrap();
    // The idle connection's request, then the working one.
    server.invocations_started(2).await;
    let stopping = Instant::now();
    server.stop();
    let limit = Duration::from_millis(500);
    closed_within(&mut idle, limit).await;
    closed_within(&mut stalled, limit).await;
    tokio::time::timeout(grace + Duration::from_millis(500), &mut server.task)
        .await
        .expect("serve returned within the grace")
        .unwrap();
    let stopped_after = stopping.elapsed();
    assert!(stopped_after >= grace, "{stopped_after:?}");
}

#[test]
fn a_late_tick_counts_as_frozen_time_only_beyond_a_second() {
    let tick = Duration::from_secs(1);
    assert_eq!(
        frozen_for(tick, Duration::from_millis(1500)),
        Duration::ZERO
    );
    // Late by exactly the threshold is still only late (kills `>` -> `>=` in frozen_for).
    assert_eq!(frozen_for(tick, Duration::from_secs(2)), Duration::ZERO);
    assert_eq!(
        frozen_for(tick, Duration::from_secs(600)),
        Duration::from_secs(599)
    );
}

#[tokio::test]
async fn frozen_time_is_not_idle_time() {
    let settings = Runtime::new()
        .idle_timeout(Duration::from_millis(50))
        .settings();
    let connections = Arc::new(Connections::new(settings));
    let registration = connections.register();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The 100 ms were spent frozen: the connection has not been idle for 50 ms.
    connections.clock.skip(Duration::from_millis(100));
    connections.expire();
    let asked = tokio::time::timeout(
        Duration::from_millis(10),
        registration.connection.close.notified(),
    );
    assert!(asked.await.is_err(), "closed for time spent frozen");
    // Counted time is.
    tokio::time::sleep(Duration::from_millis(100)).await;
    connections.expire();
    tokio::time::timeout(
        Duration::from_millis(10),
        registration.connection.close.notified(),
    )
    .await
    .expect("closed when idle");
}

#[test]
fn the_default_cap_is_half_the_open_file_limit_at_most_512() {
    let limits = |soft: &str| {
        format!(
            "Limit                     Soft Limit           Hard Limit           Units     \n\
             Max processes             63704                63704                processes \n\
             Max open files            {soft:<20} 524288               files     \n"
        )
    };
    assert_eq!(default_max_connections(Some(&limits("128"))), 64);
    assert_eq!(default_max_connections(Some(&limits("1024"))), 512);
    assert_eq!(default_max_connections(Some(&limits("1048576"))), 512);
    assert_eq!(default_max_connections(Some(&limits("1"))), 1);
    assert_eq!(
        default_max_connections(Some(&limits("unlimited"))),
        DEFAULT_MAX_CONNECTIONS
    );
    assert_eq!(default_max_connections(None), DEFAULT_MAX_CONNECTIONS);
}

async fn a_stalled_body_is_closed_after_the_body_read_timeout() {
    let timeout = Duration::from_millis(300);
    let server = Server::start(Runtime::new().body_read_timeout(timeout)).await;
    let mut stream = server.connect().await;
    stream.write_all(&body_head(100)).await.unwrap();
    stream.write_all(b"{").await.unwrap();
    let open_for = closed_within(&mut stream, Duration::from_secs(3)).await;
    assert!(open_for >= timeout, "closed after {open_for:?}");
    // A body that keeps coming, slower than the timeout in all, is read whole.
    let mut stream = server.connect().await;
    let body = br#"{"slow":"body"}"#;
    stream.write_all(&body_head(body.len())).await.unwrap();
    for byte in body {
        tokio::time::sleep(timeout / 6).await;
        stream.write_all(&[*byte]).await.unwrap();
    }
    let (head, answer) = read_answer(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(answer, r#"{"slow":"body"}"#);
}

async fn stalled_bodies_beyond_the_cap_do_not_lock_out_invocations() {
    const CAP: usize = 20;
    const STALLED: usize = 100;
    // The default 10 s body-read timeout: only the cap can let the invocation through.
    let server = Server::start(Runtime::new().max_connections(CAP)).await;
    let (closed_tx, closed) = mpsc::unbounded_channel();
    for _ in 0..STALLED {
        let mut stream = server.connect().await;
        stream.write_all(&body_head(100)).await.unwrap();
        stream.write_all(b"{").await.unwrap();
        let closed_tx = closed_tx.clone();
        tokio::spawn(async move {
            let _ = stream.read(&mut [0; 64]).await;
            let _ = closed_tx.send(());
        });
    }
    an_invocation_gets_through_and_the_rest_is_shed(&server, closed, STALLED - (CAP - 1)).await;
}

async fn a_large_body_waits_for_body_memory_but_a_small_one_does_not() {
    const KIB: usize = 1024;
    let timeout = Duration::from_millis(500);
    let server = Server::start(
        Runtime::new()
            .max_body_bytes(600 * KIB)
            .max_body_memory(1000 * KIB)
            .body_read_timeout(timeout),
    )
    .await;
    // 600 KiB declared, all but one byte sent: the body holds 600 of the 1000 KiB until its
    // read timeout closes it. The server takes the share when it first asks for the body, which
    // is when it sends `100 Continue`: the body is sent once that has come.
    let mut stalled = server.connect().await;
    let head = format!(
        "POST /invoke HTTP/1.1\r\nhost: fc\r\nx-fc-request-id: req-body\r\n\
         expect: 100-continue\r\ncontent-length: {}\r\n\r\n",
        600 * KIB
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let continued = b"HTTP/1.1 100 Continue\r\n\r\n";
    let mut interim = vec![0; continued.len()];
    stalled.read_exact(&mut interim).await.unwrap();
    assert_eq!(interim, continued, "{}", String::from_utf8_lossy(&interim));
    stalled.write_all(&vec![b' '; 600 * KIB - 1]).await.unwrap();
    let started = Instant::now();
    // A small invocation is answered meanwhile.
    let mut small = server.connect().await;
    small
        .write_all(&invoke_request(&json!({"n": 1})))
        .await
        .unwrap();
    let (head, _) = read_answer(&mut small).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(started.elapsed() < timeout / 2, "{:?}", started.elapsed());
    // A second large body is read only once the stalled one has given its share back.
    let mut large = server.connect().await;
    let mut body = b"[".to_vec();
    body.resize(500 * KIB - 1, b' ');
    body.push(b']');
    large.write_all(&body_head(body.len())).await.unwrap();
    large.write_all(&body).await.unwrap();
    let (head, answer) = read_answer(&mut large).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(answer, "[]");
    let waited = started.elapsed();
    closed_within(&mut stalled, Duration::ZERO + Duration::from_millis(10)).await;
    assert!(waited >= timeout / 2, "answered after {waited:?}");
}

async fn an_unread_answer_is_dropped_after_the_write_timeout() {
    let timeout = Duration::from_millis(300);
    let server = Server::start(Runtime::new().write_timeout(timeout)).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut unread = socket.connect(server.address).await.unwrap();
    let pad = "x".repeat(8 * 1024 * 1024);
    unread
        .write_all(&invoke_request(&json!({ "pad": pad })))
        .await
        .unwrap();
    // The answer (8 MiB) is far more than the socket buffers hold: once it starts coming, it
    // waits for the client, which reads nothing for three write timeouts.
    unread.peek(&mut [0; 1]).await.unwrap();
    tokio::time::sleep(timeout * 3).await;
    let mut received = 0;
    let mut buffer = vec![0; 65536];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match unread.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received += read,
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the connection stayed open with {received} bytes read"
    );
    assert!(
        received < pad.len(),
        "the whole answer came: {received} bytes"
    );
}

async fn an_unread_answer_keeps_its_body_memory_until_it_is_dropped() {
    let timeout = Duration::from_secs(1);
    let request = invoke_request(&json!({ "pad": "x".repeat(8 * 1024 * 1024) }));
    // The body memory holds exactly this one request's body.
    let memory = request.len();
    let server = Server::start(
        Runtime::new()
            .max_body_bytes(memory)
            .max_body_memory(memory)
            .write_timeout(timeout),
    )
    .await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut unread = socket.connect(server.address).await.unwrap();
    unread.write_all(&request).await.unwrap();
    // The echo (8 MiB) has started to come, and waits for a client that reads nothing.
    unread.peek(&mut [0; 1]).await.unwrap();
    let started = Instant::now();
    // A body over 32 KiB needs a share of the body memory: it is read once the unread answer is
    // dropped (the write timeout), not as soon as hyper has taken that answer.
    let mut next = server.connect().await;
    next.write_all(&invoke_request(&json!({ "pad": "y".repeat(100 * 1024) })))
        .await
        .unwrap();
    let (head, _) = read_answer(&mut next).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let waited = started.elapsed();
    assert!(waited >= timeout / 2, "answered after {waited:?}");
    drop(unread);
}

async fn a_client_that_half_closes_after_its_request_gets_the_answer() {
    let server = Server::start(Runtime::new()).await;
    let mut stream = server.connect().await;
    stream
        .write_all(&invoke_request(&json!({"sleep_ms": 200})))
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    let (head, body) = read_answer(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, r#"{"sleep_ms":200}"#);
}

async fn a_head_up_to_32_kib_is_served_and_a_larger_one_refused() {
    let server = Server::start(Runtime::new()).await;
    // FC's 8 KB of client headers, a 4 KB path and FC's own headers fit with room to spare.
    let head_of = |padding: usize| {
        format!(
            "POST /invoke?{} HTTP/1.1\r\nhost: fc\r\nx-client: {}\r\nx-fc-security-token: {}\r\ncontent-length: 2\r\n\r\n{{}}",
            "q".repeat(4000),
            "h".repeat(8000),
            "t".repeat(padding)
        )
    };
    let mut stream = server.connect().await;
    stream.write_all(head_of(8000).as_bytes()).await.unwrap();
    let (head, _) = read_answer(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut stream = server.connect().await;
    let _ = stream.write_all(head_of(40_000).as_bytes()).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer));
    assert!(read.await.is_ok(), "no answer within 5 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
}

#[test]
fn body_memory_is_a_quarter_of_the_instance_memory() {
    use crate::runtime::default_body_memory;
    const MIB: usize = 1024 * 1024;
    assert_eq!(default_body_memory(Some("128")), 32 * MIB);
    assert_eq!(default_body_memory(Some("3072")), 768 * MIB);
    assert_eq!(default_body_memory(None), 32 * MIB);
    assert_eq!(default_body_memory(Some("lots")), 32 * MIB);
    assert_eq!(default_body_memory(Some("0")), 32 * MIB);
    // Never less than the largest body accepted.
    let settings = Runtime::new()
        .max_body_memory(MIB)
        .max_body_bytes(2 * MIB)
        .settings();
    assert_eq!(settings.body_memory_bytes, 2 * MIB);
}

/// Kills `kib -> 1` (every body's share one permit out of one: each large body would wait for
/// the one before it): a body whose share fits beside another's is read while that one is held.
async fn bodies_that_fit_in_the_body_memory_together_are_read_together() {
    const KIB: usize = 1024;
    let mut server = Server::start(
        Runtime::new()
            .max_body_bytes(64 * KIB)
            .max_body_memory(100 * KIB),
    )
    .await;
    // A 40 KiB body whose handler holds its share (41 of the 100 KiB) for a minute.
    let mut holding = server.connect().await;
    holding
        .write_all(&invoke_request(
            &json!({"sleep_ms": 60_000, "pad": "x".repeat(40 * KIB)}),
        ))
        .await
        .unwrap();
    server.invocations_started(1).await;
    // A second 40 KiB body fits beside it and is answered meanwhile.
    let mut beside = server.connect().await;
    beside
        .write_all(&invoke_request(&json!({"pad": "y".repeat(40 * KIB)})))
        .await
        .unwrap();
    let (head, body) = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut beside))
        .await
        .expect("the second body was read while the first held its share");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body.len(), 40 * KIB + r#"{"pad":""}"#.len());
    drop(holding);
}

/// Kills `<impl AsyncWrite for Watched>::poll_flush` -> `Poll::from(Ok(()))` (the answer's share
/// of the body memory then stays held until its connection closes): once an answer is written
/// out, its share is free although its keep-alive connection stays open.
async fn an_answer_written_out_gives_its_body_memory_back() {
    let request = invoke_request(&json!({ "pad": "x".repeat(100 * 1024) }));
    // The body memory holds this request's body once, not twice.
    let memory = request.len();
    let server = Server::start(
        Runtime::new()
            .max_body_bytes(memory)
            .max_body_memory(memory),
    )
    .await;
    let mut first = server.connect().await;
    first.write_all(&request).await.unwrap();
    let (head, _) = read_answer(&mut first).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // The first connection stays open, idle; the same body on another one is read.
    let mut second = server.connect().await;
    second.write_all(&request).await.unwrap();
    let (head, _) = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut second))
        .await
        .expect("the second body got the memory the first answer gave back");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    drop(first);
}

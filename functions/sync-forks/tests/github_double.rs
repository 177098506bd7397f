//! The real `sync-forks` binary against a scripted GitHub double on loopback.

// clippy.toml's allow-unwrap-in-tests covers #[test] functions only, not this file's helpers.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};

const TOKEN: &str = "test-token-not-real";

/// sync-forks' cap on one GitHub reply (`MAX_REPLY_BYTES`).
const MAX_REPLY_BYTES: u64 = 1024 * 1024;

/// What the double saw: calls per `METHOD path`, and whether each carried the token.
#[derive(Default)]
struct Seen {
    calls: HashMap<String, u32>,
    unauthenticated: u32,
    branches: HashMap<String, String>,
    endless: Arc<Endless>,
}

/// The bodies that never end: bytes handed to the connection, and bodies still being sent.
#[derive(Default)]
struct Endless {
    sent: AtomicU64,
    open: AtomicU64,
    closed: tokio::sync::Notify,
}

/// Counts an endless body as closed when the connection drops it.
struct Open(Arc<Endless>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
        self.0.closed.notify_one();
    }
}

impl Endless {
    /// A body of `x` that ends only when the client goes away.
    fn body(self: &Arc<Self>) -> BoxBody<Bytes, Infallible> {
        static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];
        self.open.fetch_add(1, Ordering::SeqCst);
        let open = Open(Arc::clone(self));
        let chunks = futures_util::stream::unfold(open, |open| async move {
            open.0.sent.fetch_add(CHUNK.len() as u64, Ordering::SeqCst);
            let frame = Frame::data(Bytes::from_static(&CHUNK));
            Some((Ok::<_, Infallible>(frame), open))
        });
        BodyExt::boxed(StreamBody::new(chunks))
    }

    /// Waits until no endless body is being sent any more; returns the bytes sent in all.
    async fn wait_closed(&self) -> u64 {
        let closed = tokio::time::timeout(Duration::from_secs(10), async {
            while self.open.load(Ordering::SeqCst) > 0 {
                self.closed.notified().await;
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "an endless body was still being sent 10 s after the invocation"
        );
        self.sent.load(Ordering::SeqCst)
    }
}

/// Answers like GitHub, per repository: see the match below.
async fn github(
    request: Request<hyper::body::Incoming>,
    seen: Arc<Mutex<Seen>>,
) -> Response<BoxBody<Bytes, Infallible>> {
    let key = format!("{} {}", request.method(), request.uri().path());
    let host = request.headers()["host"].to_str().unwrap().to_owned();
    let authorised = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"))
        && request.headers().get("x-github-api-version").is_some()
        && request
            .headers()
            .get("accept")
            .is_some_and(|v| v == "application/vnd.github+json");
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let (call, endless) = {
        let mut seen = seen.lock().unwrap();
        if !authorised {
            seen.unauthenticated += 1;
        }
        if let Ok(body) = serde_json::from_slice::<Value>(&body) {
            if let Some(branch) = body["branch"].as_str() {
                seen.branches.insert(key.clone(), branch.to_owned());
            }
        }
        let count = seen.calls.entry(key.clone()).or_default();
        *count += 1;
        (*count, Arc::clone(&seen.endless))
    };
    let endless_reply = |length: Option<u64>| {
        let mut response = Response::new(endless.body());
        if let Some(length) = length {
            response
                .headers_mut()
                .insert("content-length", length.to_string().parse().unwrap());
        }
        response
    };
    let ok = |merge_type: &str| {
        (
            200,
            vec![],
            json!({"message": format!("done: {merge_type}"), "merge_type": merge_type, "base_branch": "upstream:main"}),
        )
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (status, headers, json): (u16, Vec<(&str, String)>, Value) = match key.as_str() {
        "POST /repos/octo/ff/merge-upstream" => ok("fast-forward"),
        "POST /repos/octo/merge/merge-upstream" => ok("merge"),
        "POST /repos/octo/none/merge-upstream" => ok("none"),
        "POST /repos/octo/conflict/merge-upstream" => {
            (409, vec![], json!({"message": "There are merge conflicts"}))
        }
        "POST /repos/octo/noauth/merge-upstream" => {
            (401, vec![], json!({"message": "Bad credentials"}))
        }
        "POST /repos/octo/limited/merge-upstream" if call == 1 => (
            429,
            vec![("retry-after", "1".into())],
            json!({"message": "slow down"}),
        ),
        "POST /repos/octo/limited/merge-upstream" => ok("fast-forward"),
        "POST /repos/octo/reset/merge-upstream" if call == 1 => (
            403,
            vec![
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset", (now + 1).to_string()),
            ],
            json!({"message": "API rate limit exceeded"}),
        ),
        "POST /repos/octo/reset/merge-upstream" => ok("fast-forward"),
        "POST /repos/octo/flaky/merge-upstream" if call == 1 => {
            (502, vec![], json!({"message": "bad gateway"}))
        }
        "POST /repos/octo/flaky/merge-upstream" => ok("merge"),
        "POST /repos/octo/slow/merge-upstream" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            ok("fast-forward")
        }
        // Rate limits: a retry that fits only without FC's margin or the budget, one that never
        // fits, and one that keeps coming back until attempts run out.
        "POST /repos/octo/patient/merge-upstream" if call == 1 => (
            429,
            vec![("retry-after", "3".into())],
            json!({"message": "slow down"}),
        ),
        "POST /repos/octo/patient/merge-upstream" => ok("fast-forward"),
        "POST /repos/octo/later/merge-upstream" => (
            429,
            vec![("retry-after", "120".into())],
            json!({"message": "slow down"}),
        ),
        "POST /repos/octo/throttled/merge-upstream" => (
            429,
            vec![("retry-after", "1".into())],
            json!({"message": "slow down"}),
        ),
        "POST /repos/octo/hang/merge-upstream" => std::future::pending().await,
        // Replies too large to read: endless, announced as 10 GiB, a 10 MB error message.
        "POST /repos/octo/endless/merge-upstream" => return endless_reply(None),
        "POST /repos/octo/huge/merge-upstream" => return endless_reply(Some(10 << 30)),
        "POST /repos/octo/chatty/merge-upstream" => {
            (422, vec![], json!({"message": "x".repeat(10_000_000)}))
        }
        // Long texts under the cap: cut for the log line and the summary.
        "POST /repos/octo/wordy/merge-upstream" => (
            409,
            vec![],
            json!({"message": "conflict in 🎉\n".repeat(50_000)}),
        ),
        "POST /repos/octo/boastful/merge-upstream" => (
            200,
            vec![],
            json!({"message": "é".repeat(400_000), "merge_type": "merge", "base_branch": "upstream:main"}),
        ),
        "GET /repos/octo/longbranch" => {
            (200, vec![], json!({"default_branch": "b".repeat(600_000)}))
        }
        "GET /repos/octo/default" => (
            200,
            vec![],
            serde_json::from_str(include_str!("fixtures/repository.json")).unwrap(),
        ),
        "POST /repos/octo/default/merge-upstream" => ok("fast-forward"),
        // A default branch whose name reads backwards from its bidi override, and hides a
        // zero-width space.
        "GET /repos/octo/bidi" => (200, vec![], json!({"default_branch": BIDI_BRANCH})),
        "POST /repos/octo/bidi/merge-upstream" => ok("none"),
        // A renamed repository: GitHub redirects with 301 (GET) and 307 (POST), to an absolute
        // URL on its own host; a relative one is taken on the same host.
        "GET /repos/octo/renamed" => (
            301,
            vec![("location", format!("http://{host}/repositories/42"))],
            json!({"message": "Moved Permanently"}),
        ),
        "GET /repositories/42" => (200, vec![], json!({"default_branch": "trunk"})),
        "POST /repos/octo/renamed/merge-upstream" => (
            307,
            vec![("location", "/repositories/42/merge-upstream".into())],
            json!({"message": "Temporary Redirect"}),
        ),
        "POST /repositories/42/merge-upstream" => ok("merge"),
        // Redirects that are not followed: to another host, and in a loop.
        "POST /repos/octo/elsewhere/merge-upstream" => (
            307,
            vec![(
                "location",
                format!("http://{}/steal", host.replace("127.0.0.1", "localhost")),
            )],
            json!({"message": "Temporary Redirect"}),
        ),
        "POST /repos/octo/loop/merge-upstream" => (
            307,
            vec![("location", "/repos/octo/loop/merge-upstream".into())],
            json!({"message": "Temporary Redirect"}),
        ),
        _ => (404, vec![], json!({"message": "Not Found"})),
    };
    let mut response = Response::new(BodyExt::boxed(Full::new(Bytes::from(json.to_string()))));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    for (name, value) in headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// Starts the double; returns its address and what it saw.
async fn start_double() -> (SocketAddr, Arc<Mutex<Seen>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let shared = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = Arc::clone(&shared);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let seen = Arc::clone(&seen);
                    async move { Ok::<_, std::convert::Infallible>(github(request, seen).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (address, seen)
}

/// The running function and its captured output.
struct Function {
    child: Child,
    url: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    /// The threads copying stdout and stderr: each ends when the process's side closes.
    readers: Vec<JoinHandle<()>>,
}

impl Function {
    /// Starts the binary on a free port; tries another port if one was taken meanwhile.
    fn start(github: SocketAddr, forks: &str) -> Self {
        Self::start_with(github, forks, &[])
    }

    /// [`Function::start`] with more (or other) environment variables.
    fn start_with(github: SocketAddr, forks: &str, env: &[(&str, &str)]) -> Self {
        for _ in 0..5 {
            if let Some(function) = Self::try_start(github, forks, env) {
                return function;
            }
        }
        panic!("sync-forks did not start");
    }

    fn try_start(github: SocketAddr, forks: &str, env: &[(&str, &str)]) -> Option<Self> {
        let port = StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_sync-forks"))
            .env("FC_CUSTOM_LISTEN_PORT", port.to_string())
            .env("GITHUB_API_URL", format!("http://{github}/"))
            .env("GITHUB_TOKEN", TOKEN)
            .env("SYNC_FORKS", forks)
            .env("SYNC_FORKS_REQUEST_TIMEOUT_MS", "800")
            .env("FC_LOG_LEVEL", "trace")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let capture = |stream: Box<dyn Read + Send>| {
            let text = Arc::new(Mutex::new(String::new()));
            let sink = Arc::clone(&text);
            let reader = std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut text = sink.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                }
            });
            (text, reader)
        };
        let (stdout, stdout_reader) = capture(Box::new(child.stdout.take().unwrap()));
        let (stderr, stderr_reader) = capture(Box::new(child.stderr.take().unwrap()));
        let started = Instant::now();
        let ready = format!("listening on 0.0.0.0:{port}");
        while !stdout.lock().unwrap().contains(&ready) {
            if child.try_wait().unwrap().is_some() {
                return None;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sync-forks did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self {
            child,
            url: format!("http://127.0.0.1:{port}/invoke"),
            stdout,
            stderr,
            readers: vec![stdout_reader, stderr_reader],
        })
    }

    /// Invokes with a timer event (empty payload: the forks come from SYNC_FORKS).
    async fn invoke_timer(&self, id: &str) -> (u16, String, Value) {
        self.invoke_with_timeout(id, 30).await
    }

    /// Invokes with a timer event as FC does for a function whose timeout is `timeout_secs`.
    async fn invoke_with_timeout(&self, id: &str, timeout_secs: u32) -> (u16, String, Value) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let request = Request::post(&self.url)
            .header("x-fc-request-id", id)
            .header("x-fc-function-timeout", timeout_secs.to_string())
            .body(Full::new(Bytes::from_static(
                br#"{"triggerTime":"2023-12-26T07:49:00Z","triggerName":"daily","payload":""}"#,
            )))
            .unwrap();
        let response = client.request(request).await.unwrap();
        let status = response.status().as_u16();
        let fc_status = response.headers()["x-fc-status"]
            .to_str()
            .unwrap()
            .to_owned();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains(TOKEN), "token in the body");
        (status, fc_status, serde_json::from_str(&text).unwrap())
    }

    /// The most memory the function's process has used so far (`VmHWM`), in bytes; `None`
    /// where there is no `/proc` (not Linux).
    fn peak_memory(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    }

    /// Stops the function (SIGTERM, as FC does: what it logged is written before it exits)
    /// and checks the token never reached its output.
    fn stop_and_check_output(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while self.child.try_wait().unwrap().is_none()
            && started.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Every line the process wrote is read once its pipes close.
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().clone();
        assert!(
            !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
            "token in the output"
        );
        stdout
    }
}

fn by_repo(summary: &Value) -> HashMap<String, Value> {
    summary["forks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|fork| (fork["repo"].as_str().unwrap().to_owned(), fork.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncable_forks_succeed_after_retries_and_lookups() {
    let (github, seen) = start_double().await;
    let function = Function::start(github, "octo/ff:main, octo/merge:main octo/none:main\nocto/limited:main,octo/reset:main octo/flaky:main octo/default");
    let (status, fc_status, summary) = function.invoke_timer("req-sync").await;
    assert_eq!((status, fc_status.as_str()), (200, "200"), "{summary}");
    assert_eq!(
        (summary["synced"].as_u64(), summary["up_to_date"].as_u64()),
        (Some(6), Some(1))
    );
    assert_eq!(
        (summary["conflict"].as_u64(), summary["error"].as_u64()),
        (Some(0), Some(0))
    );
    let forks = by_repo(&summary);
    assert_eq!(forks["octo/ff"]["merge_type"], "fast-forward");
    assert_eq!(forks["octo/merge"]["status"], "synced");
    assert_eq!(forks["octo/none"]["status"], "up_to_date");
    assert_eq!(forks["octo/default"]["branch"], "develop");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.unauthenticated, 0);
    assert_eq!(seen.calls["POST /repos/octo/limited/merge-upstream"], 2);
    assert_eq!(seen.calls["POST /repos/octo/reset/merge-upstream"], 2);
    assert_eq!(seen.calls["POST /repos/octo/flaky/merge-upstream"], 2);
    assert_eq!(
        seen.branches["POST /repos/octo/default/merge-upstream"],
        "develop"
    );
    drop(seen);
    let stdout = function.stop_and_check_output();
    assert!(stdout.contains("FC Invoke Start RequestId: req-sync\n"));
    assert!(stdout.contains("FC Invoke End RequestId: req-sync\n"));
    assert!(
        stdout
            .lines()
            .any(|line| line.contains(" req-sync [INFO] octo/ff (main): synced: ")),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_forks_fail_the_invocation_with_the_summary() {
    let (github, _) = start_double().await;
    let function = Function::start(
        github,
        "octo/ff:main octo/conflict:main octo/missing octo/noauth:main octo/slow:main",
    );
    let (status, fc_status, body) = function.invoke_timer("req-fail").await;
    assert_eq!((status, fc_status.as_str()), (404, "404"), "{body}");
    assert_eq!(body["errorType"], "SyncFailed");
    assert_eq!(
        body["errorMessage"],
        "4 of 5 forks not synced: octo/conflict, octo/missing, octo/noauth, octo/slow"
    );
    let summary = &body["details"];
    assert_eq!(
        (
            summary["synced"].as_u64(),
            summary["conflict"].as_u64(),
            summary["error"].as_u64()
        ),
        (Some(1), Some(1), Some(3))
    );
    let forks = by_repo(summary);
    assert_eq!(forks["octo/conflict"]["status"], "conflict");
    assert!(forks["octo/conflict"]["reason"]
        .as_str()
        .unwrap()
        .contains("There are merge conflicts"));
    assert!(forks["octo/missing"]["reason"]
        .as_str()
        .unwrap()
        .contains("not found"));
    assert!(forks["octo/noauth"]["reason"]
        .as_str()
        .unwrap()
        .contains("401"));
    assert!(
        forks["octo/slow"]["reason"]
            .as_str()
            .unwrap()
            .contains("did not answer within 800ms"),
        "{summary}"
    );
    function.stop_and_check_output();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_fork_names_are_refused_before_any_call() {
    let (github, seen) = start_double().await;
    let function = Function::start(github, "not-a-repo");
    let (status, fc_status, body) = function.invoke_timer("req-bad").await;
    assert_eq!((status, fc_status.as_str()), (404, "404"));
    assert_eq!(body["errorType"], "ConfigError");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(message.contains("not-a-repo"), "{message}");
    assert!(message.starts_with("SYNC_FORKS: invalid fork"), "{message}");
    assert!(seen.lock().unwrap().calls.is_empty());
    function.stop_and_check_output();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_binds_when_fc_sends_its_timeout() {
    let (github, seen) = start_double().await;
    // FC's timeout is 30 s; the stack's budget (here 2 s) ends the run first.
    let function = Function::start_with(
        github,
        "octo/patient:main octo/hang:main",
        &[
            ("SYNC_FORKS_BUDGET_SECS", "2"),
            ("SYNC_FORKS_REQUEST_TIMEOUT_MS", "20000"),
        ],
    );
    let started = Instant::now();
    let (status, _, body) = function.invoke_with_timeout("req-budget", 30).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 404, "{body}");
    let forks = by_repo(&body["details"]);
    assert_eq!(forks["octo/patient"]["status"], "error", "{body}");
    // Retry-After 3 s fits FC's 30 s, not the 2 s budget.
    let reason = forks["octo/patient"]["reason"].as_str().unwrap();
    assert!(reason.contains("does not fit the deadline"), "{reason}");
    assert!(reason.contains("Retry-After 3s"), "{reason}");
    assert_eq!(
        seen.lock().unwrap().calls["POST /repos/octo/patient/merge-upstream"],
        1
    );
    assert_eq!(forks["octo/hang"]["status"], "error");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    function.stop_and_check_output();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_summary_comes_back_before_fc_s_deadline() {
    let (github, seen) = start_double().await;
    // A budget of 60 s is past FC's 4 s timeout: the run ends 2 s before FC's deadline
    // (FC_DEADLINE_MARGIN), even with a GitHub that never answers and a 20 s request timeout.
    let function = Function::start_with(
        github,
        "octo/patient:main octo/hang:main",
        &[
            ("SYNC_FORKS_BUDGET_SECS", "60"),
            ("SYNC_FORKS_REQUEST_TIMEOUT_MS", "20000"),
        ],
    );
    let started = Instant::now();
    let (status, fc_status, body) = function.invoke_with_timeout("req-margin", 4).await;
    let elapsed = started.elapsed();
    assert_eq!((status, fc_status.as_str()), (404, "404"), "{body}");
    assert!(
        elapsed < Duration::from_secs(3),
        "the summary came {elapsed:?} after the invocation; FC kills it at 4 s"
    );
    let forks = by_repo(&body["details"]);
    // Retry-After 3 s would fit FC's 4 s, not its 4 s less the margin.
    let reason = forks["octo/patient"]["reason"].as_str().unwrap();
    assert!(reason.contains("does not fit the deadline"), "{reason}");
    assert_eq!(
        seen.lock().unwrap().calls["POST /repos/octo/patient/merge-upstream"],
        1
    );
    let reason = forks["octo/hang"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("GitHub did not answer within"),
        "{reason}"
    );
    let stdout = function.stop_and_check_output();
    assert!(stdout.contains("FC Invoke End RequestId: req-margin\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_budget_the_run_ends_10_s_before_fc_s_deadline() {
    let (github, _) = start_double().await;
    // FC's timeout is 13 s and no budget is set: the run ends 3 s after the start, long before
    // GitHub's 20 s request timeout or FC's deadline less its 2 s margin (11 s).
    let function = Function::start_with(
        github,
        "octo/hang:main",
        &[("SYNC_FORKS_REQUEST_TIMEOUT_MS", "20000")],
    );
    let started = Instant::now();
    let (status, _, body) = function.invoke_with_timeout("req-default", 13).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 404, "{body}");
    let forks = by_repo(&body["details"]);
    let reason = forks["octo/hang"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("GitHub did not answer within 2."),
        "{reason}"
    );
    assert!(
        (Duration::from_secs(3)..Duration::from_secs(5)).contains(&elapsed),
        "the summary came {elapsed:?} after the invocation"
    );
    function.stop_and_check_output();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renamed_repositories_are_followed_on_the_same_host_only() {
    let (github, seen) = start_double().await;
    let function = Function::start(github, "octo/renamed octo/elsewhere:main octo/loop:main");
    let (status, _, body) = function.invoke_timer("req-moved").await;
    assert_eq!(status, 404, "{body}");
    let forks = by_repo(&body["details"]);
    // 301 for the repository, 307 for the merge: the POST and its body reach the new place.
    assert_eq!(forks["octo/renamed"]["status"], "synced", "{body}");
    assert_eq!(forks["octo/renamed"]["branch"], "trunk");
    assert_eq!(forks["octo/renamed"]["merge_type"], "merge");
    let reason = forks["octo/elsewhere"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("/steal, another host; not followed, as the call carries the token"),
        "{reason}"
    );
    let reason = forks["octo/loop"]["reason"].as_str().unwrap();
    assert!(reason.contains("more than 5 redirects"), "{reason}");
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.branches["POST /repositories/42/merge-upstream"],
        "trunk"
    );
    assert_eq!(seen.calls["GET /repositories/42"], 1);
    assert!(!seen.calls.contains_key("POST /steal"));
    assert_eq!(seen.calls["POST /repos/octo/loop/merge-upstream"], 6);
    assert_eq!(seen.unauthenticated, 0);
    drop(seen);
    function.stop_and_check_output();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_reasons_say_what_happened() {
    let (github, seen) = start_double().await;
    let function = Function::start_with(
        github,
        "octo/throttled:main octo/later:main",
        &[("SYNC_FORKS_MAX_ATTEMPTS", "2")],
    );
    let (status, _, body) = function.invoke_with_timeout("req-limits", 30).await;
    assert_eq!(status, 404, "{body}");
    let forks = by_repo(&body["details"]);
    // Always 429 with Retry-After 1 s and plenty of time: the attempts ran out, nothing else.
    assert_eq!(
        forks["octo/throttled"]["reason"],
        "attempts exhausted after 2 tries, last status 429 Too Many Requests, Retry-After 1s"
    );
    // Retry-After 120 s with 30 s to go: that one does not fit.
    let reason = forks["octo/later"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "last status 429 Too Many Requests, Retry-After 120s: \
             the retry does not fit the deadline ("
        ),
        "{reason}"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.calls["POST /repos/octo/throttled/merge-upstream"], 2);
    assert_eq!(seen.calls["POST /repos/octo/later/merge-upstream"], 1);
    drop(seen);
    function.stop_and_check_output();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_replies_are_cut_off_and_long_messages_cut_short() {
    let (github, seen) = start_double().await;
    let function = Function::start(
        github,
        "octo/endless:main octo/huge:main octo/chatty:main octo/wordy:main \
         octo/boastful:main octo/longbranch octo/ff:main",
    );
    let (status, _, body) = function.invoke_timer("req-huge").await;
    assert_eq!(status, 404, "{body}");
    let summary = &body["details"];
    let forks = by_repo(summary);
    assert_eq!(forks.len(), 7, "{summary}");
    assert_eq!(forks["octo/ff"]["status"], "synced");
    for repo in ["octo/endless", "octo/huge", "octo/chatty"] {
        assert_eq!(forks[repo]["status"], "error", "{repo}");
        assert_eq!(
            forks[repo]["reason"], "GitHub's reply exceeded 1048576 bytes",
            "{repo}"
        );
    }
    // Under the cap, GitHub's texts are cut to 500 characters and marked.
    assert_eq!(forks["octo/wordy"]["status"], "conflict");
    let reason = forks["octo/wordy"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("merge conflict with upstream: conflict in 🎉 conflict"));
    assert!(
        reason.ends_with("… (truncated from 850000 bytes)"),
        "{reason}"
    );
    assert_eq!(forks["octo/boastful"]["status"], "synced");
    let message = forks["octo/boastful"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!("{}… (truncated from 800000 bytes)", "é".repeat(500))
    );
    assert_eq!(forks["octo/longbranch"]["status"], "error");
    assert!(
        forks["octo/longbranch"].get("branch").is_none(),
        "{summary}"
    );
    let reason = forks["octo/longbranch"]["reason"].as_str().unwrap();
    assert!(reason.contains("is not a branch name"), "{reason}");
    // The whole answer stays small.
    let answer = body.to_string();
    assert!(answer.len() < 8 * 1024, "{} bytes", answer.len());
    // The read stopped at the cap: the endless bodies were dropped after about 1 MiB (what
    // else was sent sits in socket buffers), and the process never held much more.
    let sent = seen.lock().unwrap().endless.clone();
    let sent = sent.wait_closed().await;
    assert!(sent < 32 * MAX_REPLY_BYTES, "{sent} bytes sent");
    let peak = function.peak_memory();
    assert!(
        peak.map_or(true, |peak| peak < 48 << 20),
        "peak memory {peak:?} bytes"
    );
    let stdout = function.stop_and_check_output();
    // 500 characters of GitHub's text, the marker, the time, request id and fork.
    let longest = stdout
        .lines()
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0);
    assert!(longest < 1000, "a log line of {longest} characters");
    assert_eq!(
        stdout
            .lines()
            .filter(|line| line.contains(" [WARN] octo/"))
            .count(),
        5
    );
    eprintln!("endless bodies: {sent} bytes sent; peak memory {peak:?} bytes; longest log line {longest} chars; answer {} bytes", answer.len());
}

/// A branch name with a right-to-left override and a zero-width space.
const BIDI_BRANCH: &str = "main\u{202e}txt.exe\u{200b}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invisible_characters_in_a_branch_name_are_shown_escaped() {
    let (github, seen) = start_double().await;
    let function = Function::start(github, "octo/bidi");
    let (status, _, summary) = function.invoke_timer("req-bidi").await;
    assert_eq!(status, 200, "{summary}");
    let forks = by_repo(&summary);
    assert_eq!(forks["octo/bidi"]["branch"], r"main\u{202e}txt.exe\u{200b}");
    // GitHub was asked about the branch by its real name.
    assert_eq!(
        seen.lock().unwrap().branches["POST /repos/octo/bidi/merge-upstream"],
        BIDI_BRANCH
    );
    let stdout = function.stop_and_check_output();
    assert!(
        !stdout.contains('\u{202e}') && !stdout.contains('\u{200b}'),
        "{stdout}"
    );
    assert!(
        stdout.contains(r" req-bidi [INFO] octo/bidi (main\u{202e}txt.exe\u{200b}): up_to_date"),
        "{stdout}"
    );
}

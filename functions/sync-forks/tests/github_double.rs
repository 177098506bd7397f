//! The real `sync-forks` binary against a scripted GitHub double on loopback.

// clippy.toml's allow-unwrap-in-tests covers #[test] functions only, not this file's helpers.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

const TOKEN: &str = "test-token-not-real";

/// What the double saw: calls per `METHOD path`, and whether each carried the token.
#[derive(Default)]
struct Seen {
    calls: HashMap<String, u32>,
    unauthenticated: u32,
    branches: HashMap<String, String>,
}

/// Answers like GitHub, per repository: see the match below.
async fn github(
    request: Request<hyper::body::Incoming>,
    seen: Arc<Mutex<Seen>>,
) -> Response<Full<Bytes>> {
    let key = format!("{} {}", request.method(), request.uri().path());
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
    let call = {
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
        *count
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
        "GET /repos/octo/default" => (
            200,
            vec![],
            serde_json::from_str(include_str!("fixtures/repository.json")).unwrap(),
        ),
        "POST /repos/octo/default/merge-upstream" => ok("fast-forward"),
        _ => (404, vec![], json!({"message": "Not Found"})),
    };
    let mut response = Response::new(Full::new(Bytes::from(json.to_string())));
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
}

impl Function {
    /// Starts the binary on a free port; tries another port if one was taken meanwhile.
    fn start(github: SocketAddr, forks: &str) -> Self {
        for _ in 0..5 {
            if let Some(function) = Self::try_start(github, forks) {
                return function;
            }
        }
        panic!("sync-forks did not start");
    }

    fn try_start(github: SocketAddr, forks: &str) -> Option<Self> {
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
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let capture = |stream: Box<dyn Read + Send>| {
            let text = Arc::new(Mutex::new(String::new()));
            let sink = Arc::clone(&text);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut text = sink.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                }
            });
            text
        };
        let stdout = capture(Box::new(child.stdout.take().unwrap()));
        let stderr = capture(Box::new(child.stderr.take().unwrap()));
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
        })
    }

    /// Invokes with a timer event (empty payload: the forks come from SYNC_FORKS).
    async fn invoke_timer(&self, id: &str) -> (u16, String, Value) {
        let response = reqwest::Client::new()
            .post(&self.url)
            .header("x-fc-request-id", id)
            .header("x-fc-function-timeout", "30")
            .body(r#"{"triggerTime":"2023-12-26T07:49:00Z","triggerName":"daily","payload":""}"#)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let fc_status = response.headers()["x-fc-status"]
            .to_str()
            .unwrap()
            .to_owned();
        let text = response.text().await.unwrap();
        assert!(!text.contains(TOKEN), "token in the body");
        (status, fc_status, serde_json::from_str(&text).unwrap())
    }

    /// Stops the function and checks the token never reached its output.
    fn stop_and_check_output(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
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

//! The smallest useful function on fc-runtime: JSON in, a JSON greeting out.
//!
//! Copy this crate to start a new function. Input (every field optional):
//! `{"name": "Ada"}` answers `{"message": "Hello, Ada!", "request_id": "..."}`.
//! Switches for testing the runtime's failure paths:
//! `{"fail": true}` returns an error (x-fc-status 404, errorType `GreetError`),
//! `{"panic": true}` panics (x-fc-status 404, errorType `Panic`; the instance keeps serving),
//! `{"sleep_ms": 500}` waits before answering (concurrency and shutdown tests).

use std::time::Duration;

use fc_runtime::Event;
use serde::{Deserialize, Serialize};

/// The invocation payload.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Request {
    /// Who to greet; "world" when absent.
    name: Option<String>,
    /// Return an error instead of a greeting.
    fail: bool,
    /// Panic instead of answering.
    panic: bool,
    /// Milliseconds to wait before answering.
    sleep_ms: u64,
}

/// The answer.
#[derive(Debug, Serialize)]
struct Greeting {
    message: String,
    request_id: String,
}

/// Why a greeting failed.
#[derive(Debug, thiserror::Error)]
enum GreetError {
    #[error("failing on purpose, as the payload asked")]
    Requested,
}

async fn greet(event: Event<Request>) -> Result<Greeting, GreetError> {
    let request = event.payload;
    if request.sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(request.sleep_ms)).await;
    }
    if request.panic {
        panic!("panicking on purpose, as the payload asked");
    }
    if request.fail {
        return Err(GreetError::Requested);
    }
    let name = request.name.unwrap_or_else(|| "world".to_owned());
    log::info!("greeting {name}");
    Ok(Greeting {
        message: format!("Hello, {name}!"),
        request_id: event.context.request_id,
    })
}

// tokio's current-thread runtime: everything runs on the main thread. FC gives an instance a
// fraction of one vCPU by default (the least its memory allows, at least 0.1: 0.1 vCPU with the
// default 128 MB; `cpu` in infra/args.py), so the worker threads of the multi-thread runtime
// would have no second core to run on. They would only add to the idle memory (measured: 3.0 MB
// of RSS instead of 2.4 MB) and to the package (8% of this zip). A handler that blocks or
// computes for long can still move that work off this thread with `tokio::task::spawn_blocking`.
//
// For the multi-thread runtime, on an instance with 2 or more vCPUs and handlers that compute in
// parallel: add the feature in this crate's Cargo.toml,
// `tokio = { workspace = true, features = ["rt-multi-thread"] }`, and write `#[tokio::main]`
// (or `#[tokio::main(flavor = "multi_thread", worker_threads = 2)]`). fc-runtime serves the same
// on both.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), fc_runtime::Error> {
    fc_runtime::run(greet).await
}

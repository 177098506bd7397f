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

#[tokio::main]
async fn main() -> Result<(), fc_runtime::Error> {
    fc_runtime::run(greet).await
}

//! greeter: JSON in, JSON out, on Function Compute's custom runtime.
//!
//! Try it locally: `python -m infra.local invoke greeter --event - <<< '{"name": "Ada"}'`.

use fc_runtime::Event;
use serde::{Deserialize, Serialize};

/// The invocation payload; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Request {
    name: Option<String>,
}

/// The answer.
#[derive(Debug, Serialize)]
struct Response {
    message: String,
    request_id: String,
}

async fn handle(event: Event<Request>) -> Result<Response, std::convert::Infallible> {
    let name = event.payload.name.unwrap_or_else(|| "world".to_owned());
    log::info!("greeting {name}");
    Ok(Response {
        message: format!("Hello, {name}!"),
        request_id: event.context.request_id,
    })
}

// One thread: FC gives an instance 0.1 vCPU unless its cpu is raised, so worker threads would
// only cost memory. With a large cpu and instance_concurrency > 1, use
// `#[tokio::main(flavor = "multi_thread")]` and add tokio's `rt-multi-thread` feature.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), fc_runtime::Error> {
    fc_runtime::run(handle).await
}

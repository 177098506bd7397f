//! {name}: an axum router answering Function Compute's HTTP trigger (custom runtime).
//!
//! FC forwards the client's request as it came, so routes are the paths clients use. Try it
//! locally: `python -m infra.local invoke {name} --http 'GET /hello/Ada'`, or
//! `python -m infra.local serve {name}` and `curl http://127.0.0.1:9000/hello/Ada`.

use axum::extract::Path;
use axum::routing::get;
use axum::{{Extension, Router}};
use fc_runtime::Context;

/// `GET /hello/{{name}}`: a greeting; FC's request id is logged from the invocation's `Context`.
async fn hello(Path(name): Path<String>, Extension(context): Extension<Context>) -> String {{
    log::info!("greeting {{name}} (request {{}})", context.request_id);
    format!("Hello, {{name}}!\n")
}}

// One thread: FC gives an instance 0.1 vCPU unless its cpu is raised, so worker threads would
// only cost memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), fc_runtime::Error> {{
    let router = Router::new().route("/hello/{{name}}", get(hello));
    fc_runtime::run_http(router).await
}}

//! The hello function on the seed's stack: warp serving `POST /invoke` on tokio's multi-thread
//! runtime, logging with pretty_env_logger (to stderr, at the level `RUST_LOG` names; none below
//! `error` without it). Same JSON in and out as fc-rust's hello. As in the seed, it prints no FC
//! markers and sets no `x-fc-status` (FC counts an answer without it as a success).
//! One change from the seed: the port is FC's `FC_CUSTOM_LISTEN_PORT` (the seed hard-codes 9000,
//! FC's default), so the bench can run it beside the others.

use log::info;
use serde::{Deserialize, Serialize};
use warp::http::StatusCode;
use warp::hyper::body::Bytes;
use warp::Filter;

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Request {
    name: Option<String>,
}

#[derive(Serialize)]
struct Greeting {
    message: String,
    request_id: String,
}

fn greet(request_id: Option<String>, body: Bytes) -> warp::reply::Response {
    use warp::Reply;
    let request: Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return warp::reply::with_status(error.to_string(), StatusCode::BAD_REQUEST)
                .into_response()
        }
    };
    let name = request.name.unwrap_or_else(|| "world".to_owned());
    info!("greeting {name}");
    warp::reply::json(&Greeting {
        message: format!("Hello, {name}!"),
        request_id: request_id.unwrap_or_default(),
    })
    .into_response()
}

#[tokio::main]
async fn main() {
    pretty_env_logger::init();
    let port = std::env::var("FC_CUSTOM_LISTEN_PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(9000);
    let route = warp::path!("invoke")
        .and(warp::post())
        .and(warp::header::optional::<String>("x-fc-request-id"))
        .and(warp::body::bytes())
        .map(greet);
    info!("Starting server ...");
    warp::serve(route).run(([0, 0, 0, 0], port)).await;
}

//! hello-http's `GET /hello/{name}` on the seed's stack, for `make bench` to measure beside ours:
//! warp on tokio's multi-thread runtime, logging with pretty_env_logger (one `info!` line per
//! request, as the seed's hello), answering FC's HTTP-trigger requests as FC forwards them (the
//! client's method and path, FC's `x-fc-*` headers added) with `{"message":"Hello, {name}!"}`.
//! The name is the path segment as sent (warp does not percent-decode it; the bench's needs no
//! decoding). A second binary, so that the seed's hello (`main.rs`) is measured unchanged.

use log::info;
use serde::Serialize;
use warp::Filter;

#[derive(Serialize)]
struct Greeting {
    message: String,
}

#[tokio::main]
async fn main() {
    pretty_env_logger::init();
    let port = std::env::var("FC_CUSTOM_LISTEN_PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(9000);
    let route = warp::path!("hello" / String)
        .and(warp::get())
        .map(|name: String| {
            info!("greeting {name}");
            warp::reply::json(&Greeting {
                message: format!("Hello, {name}!"),
            })
        });
    info!("Starting server ...");
    warp::serve(route).run(([0, 0, 0, 0], port)).await;
}

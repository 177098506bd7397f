//! Run Rust functions on Alibaba Cloud Function Compute (FC)'s custom runtime.
//!
//! FC starts the function's `bootstrap` and talks HTTP to it: every event arrives as
//! `POST /invoke`, lifecycle hooks as `POST /initialize`, `GET /pre-stop` and `GET /pre-freeze`.
//! This crate owns that server, so a function is a handler and one call:
//!
//! ```no_run
//! use fc_runtime::{Event, TimerEvent};
//!
//! async fn tick(event: Event<TimerEvent>) -> Result<String, std::convert::Infallible> {
//!     log::info!("{} fired at {}", event.payload.trigger_name, event.payload.trigger_time);
//!     Ok(format!("handled {}", event.context.request_id))
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), fc_runtime::Error> {
//!     fc_runtime::run(tick).await
//! }
//! ```
//!
//! What the runtime does for every handler:
//! - listens on `0.0.0.0` at `FC_CUSTOM_LISTEN_PORT`, else `FC_SERVER_PORT`, else 9000;
//! - builds the [`Context`] from FC's `x-fc-*` headers and environment;
//! - decodes the body (raw bytes, [`TimerEvent`], or any JSON type) and encodes the result;
//! - answers 200 with `x-fc-status: 200` on success, and 404 with `x-fc-status: 404` and
//!   `{"errorType": ..., "errorMessage": ...}` on a failed invocation: a handler error, a panic,
//!   a payload that is not the expected JSON (an oversized body answers 413, still with
//!   `x-fc-status: 404`);
//! - prints `FC Invoke Start RequestId: <id>` / `FC Invoke End RequestId: <id>` and installs a
//!   [`log`] backend whose lines carry the time and the request id (level from `FC_LOG_LEVEL`
//!   or `RUST_LOG`, default `info`), each line written to stdout whole;
//! - bounds what clients can hold: a request head must arrive within 10 s of its first byte and
//!   fit in 32 KiB, a request body may wait at most 10 s for its next byte and an answer 10 s
//!   for the client to take more, a connection with no request in flight is closed after 10
//!   idle minutes (frozen time not counted), the request bodies being read share a quarter
//!   of the instance's memory, and at most 512 connections (fewer under a low open-file limit) are
//!   served at once, closing idle ones or ones whose request is still arriving to make room;
//! - writes every log line as one line (control and invisible characters in it escaped),
//!   through a bounded queue: a stdout nobody reads drops lines instead of stopping the server;
//!   a panic is one such line too (`panicked at <file:line:column>: <message>`, with the
//!   request id), in place of Rust's multi-line message on stderr;
//! - answers an oversized body with 413 and reads (up to 64 MiB) and drops the rest of it, so
//!   that a client still sending it can read the answer;
//! - on SIGTERM or Ctrl-C stops accepting, closes idle connections, lets in-flight invocations
//!   finish for up to 3 s, and returns.
//!
//! Optional hooks and limits are set with [`Runtime`]; [`Runtime::app`] gives the same service
//! without a socket for tests.
//!
//! HTTP functions (cargo feature `http`): FC's HTTP trigger and custom domains forward a
//! client's request to the function as it came, marked `x-fc-control-path: /http-invoke`.
//! `run_http(router)` serves such requests with any tower `Service` (an axum `Router` above
//! all), with each request's [`Context`] in its extensions (`axum::Extension<Context>`), and
//! `Runtime::run_with(handler, router)` serves events and HTTP from one binary.
//!
//! The runtime serves on whichever tokio runtime `main` starts: the current-thread one (as
//! above and in the `hello` template, the choice for FC's fractional vCPU) or the multi-thread
//! one (tokio's `rt-multi-thread` feature). It needs no blocking-pool thread of its own.

#![warn(missing_docs)]

mod app;
mod context;
mod error;
mod event;
#[cfg(feature = "http")]
mod http_trigger;
mod logger;
mod runtime;
mod server;

pub use app::{App, BoxError, DEFAULT_MAX_BODY_BYTES};
pub use context::{Context, Credentials};
pub use error::{Diagnostic, Error};
pub use event::{Event, TimerEvent};
#[cfg(feature = "http")]
pub use http_trigger::{HttpService, RequestBody};
pub use logger::escape_line;
#[cfg(feature = "http")]
pub use runtime::run_http;
pub use runtime::{
    run, Runtime, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_WRITE_TIMEOUT,
};

/// Runs each of the tests named on both runtime flavours a function may choose: tokio's
/// current-thread runtime (the template's) and the multi-thread one. The client side of a test
/// shares the runtime with the server.
#[cfg(test)]
macro_rules! on_both_runtime_flavours {
    ($($test:ident),* $(,)?) => {
        mod current_thread {
            $(
                #[tokio::test(flavor = "current_thread")]
                async fn $test() {
                    super::$test().await;
                }
            )*
        }

        mod multi_thread {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test().await;
                }
            )*
        }
    };
}

#[cfg(test)]
#[cfg(feature = "http")]
mod http_tests;
#[cfg(test)]
mod server_tests;
#[cfg(test)]
mod tests;

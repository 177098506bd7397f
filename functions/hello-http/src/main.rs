//! An HTTP function on fc-runtime: an axum router answers FC's HTTP trigger, and the same
//! binary answers events.
//!
//! Routes (FC forwards the client's request as it came, so these are the paths clients use):
//! - `GET /hello/{name}`: `{"message": "Hello, {name}!"}`, the name percent-decoded;
//! - `POST /echo`: the request body, byte for byte, with its `content-type`;
//! - `GET /events`: `text/event-stream`, three `data:` events 100 ms apart, each sent as it is
//!   produced;
//! - `GET /context`: FC's request id and function name, from the invocation's `Context`;
//! - anything else: 404.
//!
//! An event at `POST /invoke`, `{"name": "Ada"}`, answers `{"message": "Hello, Ada!"}`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use fc_runtime::{Context, Event, Runtime};
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};

/// How many events `GET /events` sends.
const EVENTS: u32 = 3;

/// The time between two events of `GET /events`.
const EVENT_INTERVAL: Duration = Duration::from_millis(100);

/// A greeting, for HTTP and for events.
#[derive(Debug, Serialize)]
struct Greeting {
    message: String,
}

impl Greeting {
    fn to(name: &str) -> Self {
        Self {
            message: format!("Hello, {name}!"),
        }
    }
}

/// What `GET /context` tells about the invocation.
#[derive(Debug, Serialize)]
struct Invocation {
    request_id: String,
    function_name: Option<String>,
}

/// The event payload.
#[derive(Debug, Deserialize)]
struct GreetEvent {
    name: String,
}

/// The HTTP routes.
fn app() -> Router {
    Router::new()
        .route("/hello/{name}", get(hello))
        .route("/echo", post(echo))
        .route("/events", get(events))
        .route("/context", get(context))
        // axum refuses bodies over 2 MB by default; fc-runtime's limit (FC's 32 MiB) applies.
        .layer(DefaultBodyLimit::disable())
}

/// `value` as a JSON answer (axum's `Json` without its `json` feature; see Cargo.toml).
fn json(value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let content_type = HeaderValue::from_static("application/json");
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

async fn hello(Path(name): Path<String>) -> Response {
    json(&Greeting::to(&name))
}

async fn echo(headers: HeaderMap, body: axum::body::Bytes) -> impl IntoResponse {
    let content_type = headers.get(header::CONTENT_TYPE).cloned();
    (
        content_type.map(|value| [(header::CONTENT_TYPE, value)]),
        body,
    )
}

async fn events() -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let events = stream::unfold(1, |n| async move {
        if n > EVENTS {
            return None;
        }
        if n > 1 {
            tokio::time::sleep(EVENT_INTERVAL).await;
        }
        Some((Ok(SseEvent::default().data(format!("event {n}"))), n + 1))
    });
    Sse::new(events)
}

async fn context(Extension(context): Extension<Context>) -> Response {
    json(&Invocation {
        request_id: context.request_id,
        function_name: context.function_name,
    })
}

async fn greet(event: Event<GreetEvent>) -> Result<Greeting, Infallible> {
    Ok(Greeting::to(&event.payload.name))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), fc_runtime::Error> {
    Runtime::new().run_with(greet, app()).await
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, Bytes};
    use axum::http::{Request, StatusCode};
    use fc_runtime::Context;
    use http_body_util::BodyExt;
    use serde_json::{json, Value};
    use tower::ServiceExt;

    use super::app;

    /// Sends `request` to the router, without a socket: status, content type and body.
    async fn send(request: Request<Body>) -> (StatusCode, Option<String>, Bytes) {
        let response = app().oneshot(request).await.unwrap();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|value| value.to_str().unwrap().to_owned());
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, content_type, body)
    }

    fn get(path: &str) -> Request<Body> {
        Request::get(path).body(Body::empty()).unwrap()
    }

    fn parse(body: &Bytes) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    #[tokio::test]
    async fn hello_greets_the_percent_decoded_name() {
        let (status, content_type, body) = send(get("/hello/J%C3%BCrgen%20O%27Neil")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("application/json"));
        assert_eq!(parse(&body), json!({"message": "Hello, Jürgen O'Neil!"}));
    }

    #[tokio::test]
    async fn echo_answers_the_body_and_its_content_type() {
        let bytes: Vec<u8> = (0..=255).collect();
        let request = Request::post("/echo")
            .header("content-type", "application/x-test")
            .body(Body::from(bytes.clone()))
            .unwrap();
        let (status, content_type, body) = send(request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("application/x-test"));
        assert_eq!(body, bytes);
    }

    #[tokio::test]
    async fn events_are_three_server_sent_events() {
        let (status, content_type, body) = send(get("/events")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("text/event-stream"));
        assert_eq!(
            body,
            "data: event 1\n\ndata: event 2\n\ndata: event 3\n\n".as_bytes()
        );
    }

    #[tokio::test]
    async fn context_answers_the_request_id_and_function_name() {
        // The runtime puts each request's Context in its extensions; here the test does.
        let mut context = Context::default();
        context.request_id = "req-ctx".to_owned();
        context.function_name = Some("hello-http".to_owned());
        let request = Request::get("/context")
            .extension(context)
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = send(request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            parse(&body),
            json!({"request_id": "req-ctx", "function_name": "hello-http"})
        );
    }

    #[tokio::test]
    async fn other_paths_are_404() {
        for path in ["/", "/hello", "/hello/a/b", "/invoke", "/nowhere"] {
            assert_eq!(send(get(path)).await.0, StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[tokio::test]
    async fn an_event_is_greeted() {
        let event = fc_runtime::Runtime::new().app(super::greet);
        let request = Request::post("/invoke")
            .body(Body::from(r#"{"name":"Ada"}"#))
            .unwrap();
        let response = event.handle(request).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(parse(&body), json!({"message": "Hello, Ada!"}));
    }
}

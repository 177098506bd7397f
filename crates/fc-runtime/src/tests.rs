//! The app driven without a socket: routing, results, failures and hooks.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::runtime::port_from;
use crate::{App, Context, Diagnostic, Error, Event, Runtime, TimerEvent};

#[derive(Deserialize)]
struct Order {
    items: Vec<Item>,
    #[serde(default)]
    fail: bool,
    #[serde(default)]
    panic: bool,
}

#[derive(Deserialize)]
struct Item {
    count: u32,
}

#[derive(Serialize)]
struct Total {
    total: u32,
    request_id: String,
}

#[derive(Debug, thiserror::Error)]
#[error("order rejected")]
struct Rejected;

async fn total(event: Event<Order>) -> Result<Total, Rejected> {
    let order = event.payload;
    if order.panic {
        panic!("boom");
    }
    if order.fail {
        return Err(Rejected);
    }
    Ok(Total {
        total: order.items.iter().map(|item| item.count).sum(),
        request_id: event.context.request_id,
    })
}

fn app() -> App {
    Runtime::new().max_body_bytes(64).app(total)
}

fn invoke(body: &'static str) -> Request<Full<Bytes>> {
    Request::post("/invoke")
        .header("x-fc-request-id", "req-1")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

async fn answer(response: Response<Full<Bytes>>) -> (StatusCode, String, Value) {
    let status = response.status();
    let fc_status = response
        .headers()
        .get("x-fc-status")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, fc_status, json)
}

#[tokio::test]
async fn success_answers_200_with_the_json_result() {
    let (status, fc_status, body) = answer(
        app()
            .handle(invoke(r#"{"items":[{"count":2},{"count":3}]}"#))
            .await,
    )
    .await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::OK, "200"));
    assert_eq!(body, json!({"total": 5, "request_id": "req-1"}));
}

#[tokio::test]
async fn handler_error_answers_404_with_its_message_only() {
    let (status, fc_status, body) =
        answer(app().handle(invoke(r#"{"items":[],"fail":true}"#)).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(
        body,
        json!({"errorType": "Rejected", "errorMessage": "order rejected"})
    );
}

#[tokio::test]
async fn panic_answers_404_and_the_app_keeps_serving() {
    let app = app();
    let (status, fc_status, body) =
        answer(app.handle(invoke(r#"{"items":[],"panic":true}"#)).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(body, json!({"errorType": "Panic", "errorMessage": "boom"}));
    let (status, _, _) = answer(app.handle(invoke(r#"{"items":[]}"#)).await).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_json_names_the_path() {
    let (status, fc_status, body) =
        answer(app().handle(invoke(r#"{"items":[{"count":"x"}]}"#)).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(body["errorType"], "InvalidPayload");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(message.contains("items[0].count"), "{message}");
    // Not JSON at all, and JSON of the wrong shape: the same failed invocation.
    for bad in ["not json", "[1, 2]"] {
        let (status, fc_status, body) = answer(app().handle(invoke(bad)).await).await;
        assert_eq!(
            (status, fc_status.as_str()),
            (StatusCode::NOT_FOUND, "404"),
            "{bad}"
        );
        assert_eq!(body["errorType"], "InvalidPayload", "{bad}");
    }
}

#[tokio::test]
async fn an_unserialisable_result_is_a_failed_invocation() {
    let app = Runtime::new().app(|_: Event<Value>| async {
        // JSON object keys must be strings: serde_json refuses this map.
        Ok::<_, Error>(std::collections::BTreeMap::from([((1, 2), 3)]))
    });
    let (status, fc_status, body) = answer(app.handle(invoke("{}")).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(body["errorType"], "InvalidResponse");
}

#[tokio::test]
async fn oversized_bodies_get_413_naming_the_limit() {
    let big = Box::leak(format!(r#"{{"items":[],"pad":"{}"}}"#, "x".repeat(100)).into_boxed_str());
    let mut declared = invoke(big);
    declared
        .headers_mut()
        .insert("content-length", big.len().into());
    let (status, fc_status, body) = answer(app().handle(declared).await).await;
    assert_eq!(
        (status, fc_status.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "404")
    );
    assert_eq!(body["errorType"], "PayloadTooLarge");
    assert!(body["errorMessage"].as_str().unwrap().contains("64 bytes"));
    // Without Content-Length the limit still holds while reading.
    let (status, _, _) = answer(app().handle(invoke(big)).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn routing_answers_404_and_405() {
    let app = app();
    let get_invoke = Request::get("/invoke")
        .body(Full::<Bytes>::default())
        .unwrap();
    let (status, fc_status, body) = answer(app.handle(get_invoke).await).await;
    assert_eq!(
        (status, fc_status.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "404")
    );
    assert_eq!(body["errorType"], "MethodNotAllowed");
    for (method, path) in [
        ("GET", "/"),
        ("POST", "/other"),
        ("POST", "/initialize"),
        ("GET", "/pre-stop"),
        ("GET", "/pre-freeze"),
    ] {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Full::<Bytes>::default())
            .unwrap();
        let (status, fc_status, body) = answer(app.handle(request).await).await;
        assert_eq!(
            (status, fc_status.as_str()),
            (StatusCode::NOT_FOUND, "404"),
            "{method} {path}"
        );
        assert_eq!(body["errorType"], "NotFound");
    }
}

#[tokio::test]
async fn http_trigger_requests_are_refused_clearly() {
    let request = Request::get("/some/page")
        .header("x-fc-control-path", "/http-invoke")
        .body(Full::<Bytes>::default())
        .unwrap();
    let (status, fc_status, body) = answer(app().handle(request).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(body["errorType"], "HttpTriggerUnsupported");
}

#[tokio::test]
async fn configured_hooks_answer_200_and_failures_500() {
    let app = Runtime::new()
        .initializer(|context: Context| async move {
            if context.request_id == "init-1" {
                Ok(())
            } else {
                Err(Diagnostic::new("InitFailed", "not ready"))
            }
        })
        .pre_stop(|_: Context| async { Ok::<(), String>(()) })
        .pre_freeze(freeze)
        .app(total);
    let init = |id: &'static str| {
        Request::post("/initialize")
            .header("x-fc-request-id", id)
            .body(Full::<Bytes>::default())
            .unwrap()
    };
    let (status, fc_status, _) = answer(app.handle(init("init-1")).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::OK, "200"));
    let (status, fc_status, body) = answer(app.handle(init("init-2")).await).await;
    assert_eq!(
        (status, fc_status.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "404")
    );
    assert_eq!(
        body,
        json!({"errorType": "InitFailed", "errorMessage": "not ready"})
    );
    let stop = Request::get("/pre-stop")
        .body(Full::<Bytes>::default())
        .unwrap();
    assert_eq!(app.handle(stop).await.status(), StatusCode::OK);
    let freeze = Request::get("/pre-freeze")
        .body(Full::<Bytes>::default())
        .unwrap();
    let (status, _, body) = answer(app.handle(freeze).await).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({"errorType": "Panic", "errorMessage": "frozen"})
    );
    let wrong = Request::post("/pre-stop")
        .body(Full::<Bytes>::default())
        .unwrap();
    assert_eq!(
        app.handle(wrong).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn timer_events_and_raw_bodies_reach_the_handler() {
    let timer = Runtime::new().app(|event: Event<TimerEvent>| async move {
        Ok::<_, Error>(event.payload.payload.into_bytes())
    });
    let fixture = include_str!("../tests/fixtures/timer_event.json").trim();
    let request = Request::post("/invoke")
        .body(Full::new(Bytes::from_static(fixture.as_bytes())))
        .unwrap();
    let response = timer.handle(request).await;
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"awesome-fc");

    let echo =
        Runtime::new().app(|event: Event<Bytes>| async move { Ok::<_, Error>(event.payload) });
    let request = Request::post("/invoke")
        .body(Full::new(Bytes::from_static(b"\xffraw")))
        .unwrap();
    let body = echo
        .handle(request)
        .await
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(&body[..], b"\xffraw");
}

#[tokio::test]
async fn diagnostics_with_details_reach_the_body() {
    let app = Runtime::new().app(|_: Event<Value>| async {
        Err::<Value, _>(
            Diagnostic::new("SyncFailed", "1 of 2 failed").with_details(json!({"failed": 1})),
        )
    });
    let (status, fc_status, body) = answer(app.handle(invoke("{}")).await).await;
    assert_eq!((status, fc_status.as_str()), (StatusCode::NOT_FOUND, "404"));
    assert_eq!(
        body,
        json!({"errorType": "SyncFailed", "errorMessage": "1 of 2 failed", "details": {"failed": 1}})
    );
}

#[test]
fn the_port_comes_from_the_environment() {
    assert_eq!(port_from(fake_env(&[])).unwrap(), 9000);
    assert_eq!(
        port_from(fake_env(&[("FC_SERVER_PORT", "8080")])).unwrap(),
        8080
    );
    assert_eq!(
        port_from(fake_env(&[
            ("FC_CUSTOM_LISTEN_PORT", "9001"),
            ("FC_SERVER_PORT", "8080")
        ]))
        .unwrap(),
        9001
    );
    let error = port_from(fake_env(&[("FC_CUSTOM_LISTEN_PORT", "nine")])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "FC_CUSTOM_LISTEN_PORT must be a TCP port number (0-65535), got \"nine\""
    );
}

#[test]
fn a_deadline_needs_a_timeout() {
    let mut context = Context::default();
    assert_eq!(context.deadline(), None);
    context.received_at = Some(std::time::Instant::now());
    context.timeout = Some(Duration::from_secs(3));
    assert!(context.deadline().is_some());
}

async fn freeze(_: Context) -> Result<(), String> {
    panic!("frozen")
}

/// A variable lookup over fixed pairs, standing in for the process environment.
pub(crate) fn fake_env(
    pairs: &'static [(&'static str, &'static str)],
) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    }
}

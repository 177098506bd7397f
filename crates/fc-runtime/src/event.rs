//! Typed events: how a request body becomes the handler's payload, and its result a body.

use std::any::{Any, TypeId};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Context, Error};

/// One invocation as the handler sees it: the decoded payload and its [`Context`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Event<T> {
    /// The request body, decoded as `T` (see [`crate::run`] for the rules).
    pub payload: T,
    /// What FC says about this invocation.
    pub context: Context,
}

impl<T> Event<T> {
    /// An event built by hand, for testing a handler without the runtime.
    pub fn new(payload: T, context: Context) -> Self {
        Self { payload, context }
    }
}

/// The event a timer trigger posts to `/invoke`:
/// `{"triggerTime":"2023-12-26T07:49:00Z","triggerName":"timer-trigger","payload":"awesome-fc"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TimerEvent {
    /// When the trigger fired, RFC 3339 in UTC, as FC wrote it.
    pub trigger_time: String,
    /// The trigger's name.
    pub trigger_name: String,
    /// The trigger's configured payload, passed through unparsed (empty when none is set).
    #[serde(default)]
    pub payload: String,
}

/// Decodes a body into the handler's payload type: `Bytes` and `Vec<u8>` receive the body as
/// it is, every other type is read as JSON, and a JSON error names the path of the bad value.
pub(crate) fn decode<T: DeserializeOwned + 'static>(body: Bytes) -> Result<T, Error> {
    if let Some(raw) = take_as::<Bytes, T>(|| body.clone()) {
        return Ok(raw);
    }
    if let Some(raw) = take_as::<Vec<u8>, T>(|| body.to_vec()) {
        return Ok(raw);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&body);
    let payload = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        Error::InvalidPayload {
            path: error.path().to_string(),
            message: error.inner().to_string(),
        }
    })?;
    deserializer.end().map_err(|error| Error::InvalidPayload {
        path: ".".into(),
        message: error.to_string(),
    })?;
    Ok(payload)
}

/// The body of a successful response and its content type: `Bytes` and `Vec<u8>` are sent as
/// they are (`application/octet-stream`), every other type as JSON.
pub(crate) fn encode<R: Serialize + 'static>(response: R) -> Result<(Bytes, &'static str), Error> {
    let mut slot = Some(response);
    if let Some(raw) = take_from::<R, Bytes>(&mut slot) {
        return Ok((raw, OCTET_STREAM));
    }
    if let Some(raw) = take_from::<R, Vec<u8>>(&mut slot) {
        return Ok((Bytes::from(raw), OCTET_STREAM));
    }
    serde_json::to_vec(&slot)
        .map(|json| (Bytes::from(json), "application/json"))
        .map_err(|error| Error::InvalidResponse(error.to_string()))
}

/// `make()` as a `T` when `T` is the type `V` (a safe, run-time check of the payload type);
/// `make` runs only then, so a JSON payload does not pay for a copy of the body.
fn take_as<V: 'static, T: 'static>(make: impl FnOnce() -> V) -> Option<T> {
    if TypeId::of::<V>() != TypeId::of::<T>() {
        return None;
    }
    take_from::<V, T>(&mut Some(make()))
}

/// Moves the value out of `slot` as a `T` when `T` is the type `V`; leaves it otherwise.
fn take_from<V: 'static, T: 'static>(slot: &mut Option<V>) -> Option<T> {
    let slot: &mut dyn Any = slot;
    slot.downcast_mut::<Option<T>>().and_then(Option::take)
}

const OCTET_STREAM: &str = "application/octet-stream";

#[cfg(test)]
mod tests {
    use super::*;

    const TIMER_FIXTURE: &str = include_str!("../tests/fixtures/timer_event.json");

    #[derive(Debug, Deserialize, PartialEq)]
    struct Order {
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        count: u32,
    }

    #[test]
    fn timer_event_fixture_round_trips() {
        let event: TimerEvent = decode(Bytes::from_static(TIMER_FIXTURE.as_bytes())).unwrap();
        assert_eq!(event.trigger_time, "2023-12-26T07:49:00Z");
        assert_eq!(event.trigger_name, "timer-trigger");
        assert_eq!(event.payload, "awesome-fc");
        let written = serde_json::to_value(&event).unwrap();
        let original: serde_json::Value = serde_json::from_str(TIMER_FIXTURE).unwrap();
        assert_eq!(written, original);
    }

    #[test]
    fn timer_event_without_payload_has_an_empty_one() {
        let event: TimerEvent = decode(Bytes::from_static(
            br#"{"triggerTime":"t","triggerName":"n"}"#,
        ))
        .unwrap();
        assert_eq!(event.payload, "");
    }

    #[test]
    fn raw_types_get_the_body_unchanged() {
        let body = Bytes::from_static(b"\x00not json");
        assert_eq!(decode::<Bytes>(body.clone()).unwrap(), body);
        assert_eq!(decode::<Vec<u8>>(body.clone()).unwrap(), body.to_vec());
    }

    #[test]
    fn json_errors_name_the_path() {
        let body = Bytes::from_static(br#"{"items":[{"count":1},{"count":"x"}]}"#);
        match decode::<Order>(body) {
            Err(Error::InvalidPayload { path, message }) => {
                assert_eq!(path, "items[1].count");
                assert!(message.contains("invalid type"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            decode::<Order>(Bytes::from_static(b"{} trailing")),
            Err(Error::InvalidPayload { .. })
        ));
    }

    #[test]
    fn responses_are_json_unless_raw() {
        let (body, kind) = encode(serde_json::json!({"a": 1})).unwrap();
        assert_eq!((&body[..], kind), (&br#"{"a":1}"#[..], "application/json"));
        let (body, kind) = encode(vec![1u8, 2]).unwrap();
        assert_eq!((&body[..], kind), (&[1u8, 2][..], OCTET_STREAM));
        let (body, _) = encode(Bytes::from_static(b"raw")).unwrap();
        assert_eq!(&body[..], b"raw");
    }
}

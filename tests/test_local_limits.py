"""The emulator's payload limits at their edges: the limit is taken, one byte more is not."""

from __future__ import annotations

import io

import pytest

from infra.local.invocation import (
    ASYNC_PAYLOAD_MAX_BYTES,
    MIB,
    PAYLOAD_ERROR,
    SYNC_PAYLOAD_MAX_BYTES,
    read_event,
    refused_payload,
    size_text,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("asynchronous", "limit"),
    [(False, SYNC_PAYLOAD_MAX_BYTES), (True, ASYNC_PAYLOAD_MAX_BYTES)],
)
def test_an_event_of_exactly_the_limit_is_taken_and_one_byte_more_is_refused(
    *, asynchronous: bool, limit: int
) -> None:
    """FC takes a payload of exactly 32 MB (128 KB asynchronous) and refuses a larger one.

    Mutations caught: the comparison `len(event) <= limit` made `<` (the limit itself refused) or
    `==` (every smaller event refused), or the limit given as one byte more or less.
    """
    assert (SYNC_PAYLOAD_MAX_BYTES, ASYNC_PAYLOAD_MAX_BYTES) == (32 * 1024 * 1024, 128 * 1024)
    assert refused_payload(b"x" * limit, 128, asynchronous=asynchronous) is None
    assert refused_payload(b"{}", 128, asynchronous=asynchronous) is None
    refused = refused_payload(b"x" * (limit + 1), 128, asynchronous=asynchronous)
    assert refused is not None
    assert refused.error_type == PAYLOAD_ERROR
    assert f"over FC's limit of {limit} bytes" in str(refused.error_message)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1024 bytes (1 KiB)"),
        (1536, "1536 bytes (1.5 KiB)"),
        (MIB - 1, "1048575 bytes (1024 KiB)"),
        (MIB, "1048576 bytes (1 MiB)"),
        (40 * MIB, "41943040 bytes (40 MiB)"),
    ],
)
def test_a_size_is_told_exactly_and_in_the_largest_unit_it_reaches(size: int, text: str) -> None:
    """Mutations caught: a unit's scale or its comparison changed (`>=` to `>`), `/` to `*`."""
    assert size_text(size) == text


@pytest.mark.parametrize("asynchronous", [False, True])
def test_an_event_is_read_up_to_one_byte_past_the_limit_and_no_further(
    *, asynchronous: bool
) -> None:
    """Mutations caught: `+ 1` dropped or doubled, the loop ending early or reading on."""
    limit = ASYNC_PAYLOAD_MAX_BYTES if asynchronous else SYNC_PAYLOAD_MAX_BYTES
    endless = io.BytesIO(b"y" * (limit + 3 * MIB))
    assert len(read_event(endless, asynchronous=asynchronous)) == limit + 1
    assert read_event(io.BytesIO(b'{"a": 1}'), asynchronous=asynchronous) == b'{"a": 1}'
    exact = b"z" * limit
    assert read_event(io.BytesIO(exact), asynchronous=asynchronous) == exact


@pytest.mark.parametrize(
    ("asynchronous", "kind"), [(False, "a synchronous"), (True, "an asynchronous")]
)
def test_a_refused_event_says_which_limit_and_how_far_it_was_read(
    *, asynchronous: bool, kind: str
) -> None:
    """Mutations caught: the kind of invocation swapped in the message; the note that reading
    stopped at the limit shown for an event read whole, or missing for one cut there."""
    limit = ASYNC_PAYLOAD_MAX_BYTES if asynchronous else SYNC_PAYLOAD_MAX_BYTES
    cut = refused_payload(b"x" * (limit + 1), 128, asynchronous=asynchronous)
    assert cut is not None
    message = str(cut.error_message)
    assert f"over FC's limit of {size_text(limit)} for {kind} invocation" in message
    assert f"the event is more than {size_text(limit)} (reading stopped there)" in message
    whole = refused_payload(b"x" * (limit + 2), 128, asynchronous=asynchronous)
    assert whole is not None
    assert f"the event is {size_text(limit + 2)}, over" in str(whole.error_message)

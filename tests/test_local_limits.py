"""The emulator's payload limits at their edges: the limit is taken, one byte more is not."""

from __future__ import annotations

import pytest

from infra.local.invocation import (
    ASYNC_PAYLOAD_MAX_BYTES,
    PAYLOAD_ERROR,
    SYNC_PAYLOAD_MAX_BYTES,
    refused_payload,
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
    the limit given as one byte more or less.
    """
    assert (SYNC_PAYLOAD_MAX_BYTES, ASYNC_PAYLOAD_MAX_BYTES) == (32 * 1024 * 1024, 128 * 1024)
    assert refused_payload(b"x" * limit, 128, asynchronous=asynchronous) is None
    refused = refused_payload(b"x" * (limit + 1), 128, asynchronous=asynchronous)
    assert refused is not None
    assert refused.error_type == PAYLOAD_ERROR
    assert f"over FC's limit of {limit} bytes" in str(refused.error_message)

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usercore.adapters.system import SystemClock, Uuid7Factory
from usercore.domain import UserId, ValidationError
from usercore.domain.ids import uuid7_from_parts
from usercore.domain.timestamps import utc_millis


@given(st.integers(0, 2**48 - 1), st.binary(min_size=10, max_size=10))
def test_uuid7_layout_has_version_7_and_the_rfc_variant(ms: int, rand: bytes) -> None:
    made = uuid7_from_parts(ms, rand)
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert made.int >> 80 == ms


def test_factory_ids_are_canonical_uuid7_and_strictly_increasing() -> None:
    factory = Uuid7Factory()
    ids = [factory.new_id() for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    for value in ids[:50]:
        parsed = uuid.UUID(value)
        assert (parsed.version, str(parsed)) == (7, value)


def test_user_id_parse_accepts_uuids_and_refuses_anything_else() -> None:
    assert UserId.parse("0193A3B4-0000-7000-8000-000000000000").value == (
        "0193a3b4-0000-7000-8000-000000000000"
    )
    for bad in ["", "not-a-uuid", "0193a3b4000070008000000000000000", "x" * 36]:
        with pytest.raises(ValidationError):
            UserId.parse(bad)


def test_timestamps_are_utc_and_truncated_to_milliseconds() -> None:
    moment = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert utc_millis(moment) == datetime(2026, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        utc_millis(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert now.microsecond % 1000 == 0

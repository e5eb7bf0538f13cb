"""Timestamps: aware UTC datetimes at the millisecond, the precision every backend keeps exactly."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_millis(moment: datetime) -> datetime:
    """Normalise an aware datetime to UTC, truncated to whole milliseconds.

    MongoDB stores milliseconds; truncating everywhere means a record reads
    back equal to what was written, on every backend.

    Raises:
        ValueError: ``moment`` is naive (its time zone would be a guess).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    micros = moment.microsecond
    if micros % 1000:
        moment = moment.replace(microsecond=micros - micros % 1000)
    return moment

"""Login throttling: how long an account must wait after consecutive failed attempts."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from usercore.domain.timestamps import utc_millis

#: NIST SP 800-63B allows at most 100 consecutive failures on one account.
MAX_FREE_FAILURES = 100
#: A longer wait is a lockout, not a delay; it also keeps every sum of delays
#: far from ``timedelta``'s range.
MAX_DELAY_CEILING_SECONDS = 86_400
_SECOND_MICROS = 1_000_000


def _check_failures(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1")


@attrs.frozen
class ThrottleState:
    """The stored record of one key's consecutive failures.

    Attributes:
        failures: How many failures in a row (at least 1: a key without
            failures has no record).
        last_failure_at: When the latest of them happened (UTC, milliseconds).
    """

    failures: int = attrs.field(validator=_check_failures)
    last_failure_at: datetime = attrs.field(converter=utc_millis)


def _check_free(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= MAX_FREE_FAILURES:
        raise ValueError(f"{attribute.name} must be between 0 and {MAX_FREE_FAILURES}")


def _check_max_delay(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= MAX_DELAY_CEILING_SECONDS:
        raise ValueError(f"{attribute.name} must be between 1 and {MAX_DELAY_CEILING_SECONDS}")


@attrs.frozen
class ThrottlePolicy:
    """Free failures, then a delay that doubles with each further failure, up to a cap.

    After the n-th consecutive failure the next attempt must wait
    ``min(2 ** (n - free_failures), max_delay_seconds)`` seconds, or nothing
    while ``n < free_failures``. With the defaults (5 free, 900 s) that is
    1, 2, 4 ... 512 s after the 5th to 14th failures and 900 s from the 15th
    on, so an attacker who retries the moment it is allowed fits 109
    failures into the first day and 96 into each day after.

    Attributes:
        free_failures: Failures allowed in a row without any wait (0 to 100).
        max_delay_seconds: The longest wait, in seconds (1 to 86400).
    """

    free_failures: int = attrs.field(default=5, validator=_check_free)
    max_delay_seconds: int = attrs.field(default=900, validator=_check_max_delay)

    def delay_after(self, failures: int) -> timedelta:
        """How long the next attempt must wait after ``failures`` consecutive failures."""
        exponent = failures - self.free_failures
        if failures < 1 or exponent < 0:
            return timedelta(0)
        cap = self.max_delay_seconds
        # Past the cap's bit length the power only grows: never build it.
        seconds = cap if exponent >= cap.bit_length() else min(1 << exponent, cap)
        return timedelta(seconds=seconds)

    def retry_after(self, state: ThrottleState | None, now: datetime) -> int:
        """Whole seconds (rounded up) until an attempt is allowed; 0 when it is allowed now.

        Never more than the delay itself, even when ``now`` lies before
        ``state.last_failure_at`` (a clock behind the one that recorded it).
        """
        if state is None:
            return 0
        delay = self.delay_after(state.failures)
        remaining = min(state.last_failure_at + delay - now, delay)
        if remaining <= timedelta(0):
            return 0
        return -(-(remaining // timedelta(microseconds=1)) // _SECOND_MICROS)

    @property
    def forget_after(self) -> timedelta:
        """How long after its last failure a record must be kept; after that it may be dropped.

        The time to make, at the capped rate, as many failures as it takes to
        reach the cap. An attacker who waits that long for a fresh start gets
        the free and the short-delay failures again, but never more failures
        per day than one who keeps retrying at the cap: forgetting is no
        shortcut. (Default: 15 x 900 s = 3 h 45 min.)
        """
        reaches_cap = self.free_failures + (self.max_delay_seconds - 1).bit_length()
        return max(1, reaches_cap) * timedelta(seconds=self.max_delay_seconds)

    def expires_at(self, now: datetime) -> datetime:
        """Until when a failure recorded at ``now`` must be kept: ``now + forget_after``."""
        return now + self.forget_after

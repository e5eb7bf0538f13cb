from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usercore.domain import ThrottledError, ThrottlePolicy, ThrottleState, UserCoreError

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def test_the_default_policy_frees_five_failures_then_doubles_from_one_second_to_900() -> None:
    policy = ThrottlePolicy()
    delays = [policy.delay_after(n).total_seconds() for n in range(17)]
    assert delays == [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


def test_the_delay_stays_at_the_cap_for_any_count() -> None:
    policy = ThrottlePolicy(free_failures=2, max_delay_seconds=60)
    assert policy.delay_after(10**12) == timedelta(seconds=60)


def test_with_no_free_failures_the_first_failure_already_costs_a_delay() -> None:
    policy = ThrottlePolicy(free_failures=0, max_delay_seconds=900)
    assert policy.delay_after(0) == timedelta(0)
    assert policy.delay_after(1) == timedelta(seconds=2)


@pytest.mark.parametrize(
    ("free", "max_delay"), [(-1, 900), (101, 900), (5, 0), (5, -3), (5, 86_401)]
)
def test_refuses_policies_out_of_range(free: int, max_delay: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        ThrottlePolicy(free_failures=free, max_delay_seconds=max_delay)


def test_retry_after_is_zero_without_a_record_or_inside_the_free_failures() -> None:
    policy = ThrottlePolicy()
    assert policy.retry_after(None, T0) == 0
    assert policy.retry_after(ThrottleState(failures=4, last_failure_at=T0), T0) == 0


def test_retry_after_counts_whole_seconds_rounded_up() -> None:
    policy = ThrottlePolicy()
    state = ThrottleState(failures=7, last_failure_at=T0)  # 4 s delay
    assert policy.retry_after(state, T0) == 4
    assert policy.retry_after(state, T0 + timedelta(milliseconds=1)) == 4
    assert policy.retry_after(state, T0 + timedelta(seconds=3)) == 1
    assert policy.retry_after(state, T0 + timedelta(seconds=3, milliseconds=999)) == 1
    assert policy.retry_after(state, T0 + timedelta(seconds=4)) == 0
    assert policy.retry_after(state, T0 + timedelta(days=1)) == 0


def test_retry_after_never_exceeds_the_delay_when_the_clock_is_behind_the_record() -> None:
    # Another node's clock ran ahead: its failure seems to lie in our future.
    policy = ThrottlePolicy()
    state = ThrottleState(failures=6, last_failure_at=T0 + timedelta(hours=1))
    assert policy.retry_after(state, T0) == 2


def test_forget_after_is_the_capped_rate_times_the_count_that_reaches_the_cap() -> None:
    # The delay reaches 900 s at the 15th failure: 15 x 900 s.
    assert ThrottlePolicy().forget_after == timedelta(seconds=13_500)
    assert ThrottlePolicy(free_failures=0, max_delay_seconds=1).forget_after == timedelta(seconds=1)


@given(
    free=st.integers(0, 100),
    max_delay=st.integers(1, 86_400),
    failures=st.integers(1, 10_000),
)
def test_forgetting_never_lets_failures_come_faster_than_one_per_max_delay(
    free: int, max_delay: int, failures: int
) -> None:
    # An attacker who makes `failures` failures as fast as allowed, then waits
    # for the record to be forgotten and starts afresh, averages no more than
    # one failure per max_delay.
    policy = ThrottlePolicy(free_failures=free, max_delay_seconds=max_delay)
    spent = sum(
        (policy.delay_after(n) for n in range(1, failures)),
        start=timedelta(0),
    )
    cycle = spent + policy.forget_after
    assert cycle >= failures * timedelta(seconds=max_delay)
    assert policy.forget_after >= policy.delay_after(failures)


def test_state_times_are_utc_milliseconds_and_counts_positive() -> None:
    state = ThrottleState(failures=1, last_failure_at=T0 + timedelta(microseconds=1500))
    assert state.last_failure_at == T0 + timedelta(milliseconds=1)
    with pytest.raises(ValueError, match="failures"):
        ThrottleState(failures=0, last_failure_at=T0)
    with pytest.raises(ValueError, match="aware"):
        ThrottleState(failures=1, last_failure_at=datetime(2026, 1, 1))  # noqa: DTZ001


def test_the_throttled_error_carries_the_wait() -> None:
    error = ThrottledError(retry_after_seconds=8)
    assert isinstance(error, UserCoreError)
    assert error.retry_after_seconds == 8
    assert "8" in str(error)

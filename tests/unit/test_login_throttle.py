from __future__ import annotations

from datetime import timedelta

import pytest

from usercore.adapters.memory import InMemoryThrottleStore
from usercore.domain.email import Email
from usercore.domain.errors import ThrottledError
from usercore.domain.throttle import ThrottlePolicy
from usercore.services.throttle import LoginThrottle
from usercore.testing import ManualClock

SECRET = b"k" * 32
DAY = 86_400


def make_throttle(
    policy: ThrottlePolicy | None = None, secret: bytes = SECRET
) -> tuple[LoginThrottle, InMemoryThrottleStore, ManualClock]:
    store = InMemoryThrottleStore()
    clock = ManualClock()
    throttle = LoginThrottle(
        store=store, policy=policy or ThrottlePolicy(), secret=secret, clock=clock
    )
    return throttle, store, clock


async def test_the_free_failures_never_wait() -> None:
    throttle, _, _ = make_throttle()
    waits = []
    for _ in range(4):
        await throttle.check(email="ada@example.com")
        waits.append(await throttle.record_failure(email="ada@example.com"))
    assert waits == [0, 0, 0, 0]
    await throttle.check(email="ada@example.com")
    assert await throttle.record_failure(email="ada@example.com") == 1


async def test_after_the_free_failures_each_wait_doubles_up_to_the_cap() -> None:
    throttle, _, clock = make_throttle()
    waits = []
    for _ in range(17):
        await throttle.check(email="ada@example.com")
        wait = await throttle.record_failure(email="ada@example.com")
        waits.append(wait)
        clock.advance(wait)
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]


async def test_an_attempt_inside_the_delay_is_refused_with_the_wait_and_changes_nothing() -> None:
    throttle, store, clock = make_throttle()
    for _ in range(7):
        await throttle.record_failure(email="ada@example.com")
    key = throttle.key_for("ada@example.com")
    before = await store.get(key)
    with pytest.raises(ThrottledError) as refused:
        await throttle.check(email="ada@example.com")
    assert refused.value.retry_after_seconds == 4
    clock.advance(3.5)
    with pytest.raises(ThrottledError) as refused:
        await throttle.check(email="ada@example.com")
    assert refused.value.retry_after_seconds == 1
    assert await store.get(key) == before
    clock.advance(0.5)
    await throttle.check(email="ada@example.com")


async def test_clear_gives_back_the_free_failures() -> None:
    throttle, _, _ = make_throttle()
    for _ in range(8):
        await throttle.record_failure(email="ada@example.com")
    await throttle.clear(email="Ada@Example.com")
    await throttle.check(email="ada@example.com")
    assert await throttle.record_failure(email="ada@example.com") == 0


async def test_a_record_left_alone_for_forget_after_starts_over() -> None:
    policy = ThrottlePolicy()
    throttle, store, clock = make_throttle(policy)
    for _ in range(12):
        await throttle.record_failure(email="ada@example.com")
    clock.advance(policy.forget_after.total_seconds())
    assert await throttle.purge() == 1
    assert await store.get(throttle.key_for("ada@example.com")) is None


async def test_keys_are_an_hmac_of_the_normalised_email_never_the_email() -> None:
    throttle, _, _ = make_throttle()
    key = throttle.key_for("Ada@Example.COM")
    assert key == throttle.key_for(Email.parse("ada@example.com"))
    assert key == throttle.key_for("  ada@EXAMPLE.com ")
    assert len(key) == 64
    assert int(key, 16) >= 0
    assert "ada" not in key
    assert key != throttle.key_for("bob@example.com")
    other, _, _ = make_throttle(secret=b"o" * 32)
    assert other.key_for("ada@example.com") != key


async def test_malformed_emails_are_keyed_by_their_folded_form() -> None:
    throttle, _, _ = make_throttle()
    assert throttle.key_for("  Not An Email ") == throttle.key_for("not an email")
    assert throttle.key_for("ADA@EXAMPLE.TEST") == throttle.key_for("ada@example.test")
    assert throttle.key_for("not an email") != throttle.key_for("not-an-email")


@pytest.mark.parametrize("email", ["nobody@example.com", "not an email", "x@localhost"])
async def test_unknown_and_malformed_emails_are_throttled_like_real_ones(email: str) -> None:
    real, _, real_clock = make_throttle()
    other, _, other_clock = make_throttle()
    answers: list[tuple[int, int]] = []
    for _ in range(9):
        real_wait = await real.record_failure(email="ada@example.com")
        other_wait = await other.record_failure(email=email)
        answers.append((real_wait, other_wait))
        real_clock.advance(0.5)
        other_clock.advance(0.5)
    assert all(real_wait == other_wait for real_wait, other_wait in answers)
    with pytest.raises(ThrottledError) as refused:
        await other.check(email=email)
    assert refused.value.retry_after_seconds == 16  # 16 s after the 9th, 0.5 s of it gone


def test_the_secret_must_be_at_least_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        make_throttle(secret=b"short")


async def test_an_attacker_retrying_the_moment_it_is_allowed_fits_109_then_96_per_day() -> None:
    throttle, _, clock = make_throttle()
    start = clock.now()

    async def fail_until(seconds: int) -> int:
        failures = 0
        while clock.now() - start < timedelta(seconds=seconds):
            await throttle.check(email="ada@example.com")  # waited exactly: never refused
            clock.advance(await throttle.record_failure(email="ada@example.com"))
            failures += 1
        return failures

    assert await fail_until(DAY) == 109
    assert await fail_until(2 * DAY) == 96
    assert await fail_until(3 * DAY) == 96

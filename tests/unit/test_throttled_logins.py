"""Logins and current-password checks under the throttle: what an attacker gets, and doesn't."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from tests.unit.conftest import PASSWORD, World, make_world
from usercore.adapters.memory import InMemoryThrottleStore
from usercore.domain.errors import InvalidCredentialsError, ThrottledError
from usercore.domain.throttle import ThrottlePolicy, ThrottleState

FREE = ThrottlePolicy().free_failures


class RoundTripThrottleStore(InMemoryThrottleStore):
    """The memory store, yielding to other tasks on each call as a networked store does."""

    async def get(self, key: str) -> ThrottleState | None:
        await asyncio.sleep(0)
        return await super().get(key)

    async def record_failure(
        self, key: str, *, now: datetime, expires_at: datetime
    ) -> ThrottleState:
        await asyncio.sleep(0)
        return await super().record_failure(key, now=now, expires_at=expires_at)


async def _attempt(world: World, email: str, password: str) -> tuple[str, int]:
    """What one login says: ("ok", 0), ("invalid", 0) or ("throttled", retry_after)."""
    try:
        await world.auth.authenticate(email=email, password=password)
    except InvalidCredentialsError:
        return "invalid", 0
    except ThrottledError as exc:
        return "throttled", exc.retry_after_seconds
    return "ok", 0


async def test_after_the_free_failures_even_the_right_password_waits_and_costs_no_hash(
    world: World,
) -> None:
    await world.register("ada@example.com")
    for _ in range(FREE):
        assert await _attempt(world, "ada@example.com", "a wrong guess") == ("invalid", 0)
    verifications = world.hasher.verify_calls
    assert await _attempt(world, "ada@example.com", PASSWORD) == ("throttled", 1)
    assert world.hasher.verify_calls == verifications  # refused before any hash
    world.clock.advance(1)
    assert await _attempt(world, "ada@example.com", "a wrong guess") == ("invalid", 0)
    # The delay doubles with each failure.
    assert await _attempt(world, "ada@example.com", PASSWORD) == ("throttled", 2)
    world.clock.advance(1.5)
    assert await _attempt(world, "ada@example.com", PASSWORD) == ("throttled", 1)
    world.clock.advance(0.5)
    assert await _attempt(world, "ada@example.com", PASSWORD) == ("ok", 0)
    # A success clears the count: the free failures are back.
    for _ in range(FREE):
        assert await _attempt(world, "ada@example.com", "a wrong guess") == ("invalid", 0)


async def test_unknown_emails_get_exactly_the_answers_real_ones_get() -> None:
    # Same answers, same Retry-After, step by step: nothing tells them apart.
    real, unknown = make_world(), make_world()
    await real.register("ada@example.com")
    sequences: list[list[tuple[str, int]]] = []
    for world, email in ((real, "ada@example.com"), (unknown, "nobody@example.com")):
        sequence = []
        for _ in range(16):
            sequence.append(await _attempt(world, email, "a wrong guess"))
            world.clock.advance(0.4)
        sequences.append(sequence)
    assert sequences[0] == sequences[1]
    assert {("throttled", 1), ("throttled", 2)} <= set(sequences[0])


async def test_one_accounts_throttle_leaves_others_alone(world: World) -> None:
    await world.register("ada@example.com")
    await world.register("grace@example.com")
    for _ in range(FREE):
        await _attempt(world, "ada@example.com", "a wrong guess")
    assert (await _attempt(world, "ada@example.com", PASSWORD))[0] == "throttled"
    assert await _attempt(world, "grace@example.com", PASSWORD) == ("ok", 0)


async def test_case_and_spelling_of_the_email_share_one_count(world: World) -> None:
    await world.register("ada@example.com")
    for variant in ("ada@example.com", "ADA@Example.com", "Ada@EXAMPLE.com", "aDa@example.COM"):
        await _attempt(world, variant, "a wrong guess")
    await _attempt(world, "ada@example.com", "a wrong guess")  # the fifth
    assert (await _attempt(world, "ada@example.com", PASSWORD))[0] == "throttled"


async def test_current_password_checks_share_the_login_counter(world: World) -> None:
    ada = await world.register("ada@example.com")
    for _ in range(FREE):
        with pytest.raises(InvalidCredentialsError):
            await world.users.delete_self(actor=ada, current_password="a wrong guess")
    # A stolen access token gives no more guesses than the login form.
    with pytest.raises(ThrottledError):
        await world.users.change_password(
            actor=ada, current_password=PASSWORD, new_password="a new long passphrase"
        )
    assert (await _attempt(world, "ada@example.com", PASSWORD))[0] == "throttled"


async def test_attempts_racing_into_one_opening_get_one_check() -> None:
    # 30 guesses fired together the moment the delay ends: without claiming
    # the attempt before hashing, all 30 would be checked.
    world = make_world(throttle_store=RoundTripThrottleStore())
    await world.register("ada@example.com")
    for _ in range(FREE):
        await _attempt(world, "ada@example.com", "a wrong guess")
    world.clock.advance(1)
    verifications = world.hasher.verify_calls

    answers = await asyncio.gather(
        *(_attempt(world, "ada@example.com", f"guess number {i}") for i in range(30))
    )

    assert world.hasher.verify_calls - verifications == 1
    assert sorted(kind for kind, _ in answers) == ["invalid"] + ["throttled"] * 29


async def test_a_throttled_login_is_logged_as_a_security_event(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(FREE):
        await _attempt(world, "nobody@example.com", "a wrong guess")
    with caplog.at_level("INFO", logger="usercore.security"):
        await _attempt(world, "nobody@example.com", "a wrong guess")
    (throttled,) = [r for r in caplog.records if r.getMessage() == "login_throttled"]
    assert throttled.__dict__["retry_after"] == 1

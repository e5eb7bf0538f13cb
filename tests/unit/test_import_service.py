"""Importing and exporting users through the library: validation, conflicts, reruns."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.unit.conftest import PASSWORD, World, make_world
from usercore.domain.email import Email
from usercore.domain.errors import InvalidCredentialsError
from usercore.services.transfer import (
    ImportOutcome,
    ImportStatus,
    ImportSummary,
    SourceRecord,
    read_records,
)


async def export(world: World) -> list[dict[str, Any]]:
    return [record async for record in world.users.export_users()]


async def run(world: World, records: Any, **options: Any) -> list[ImportOutcome]:
    return [outcome async for outcome in world.users.import_users(records, **options)]


def statuses(outcomes: list[ImportOutcome]) -> dict[ImportStatus, int]:
    summary = ImportSummary()
    for outcome in outcomes:
        summary.add(outcome)
    return {status: count for status, count in summary.counts.items() if count}


async def populated(count: int = 5) -> World:
    world = make_world()
    for i in range(count):
        await world.register(f"user{i}@example.com", name=f"User {i}", admin=i == 0)
        world.clock.advance()
    return world


async def test_export_then_import_gives_the_same_users() -> None:
    source = await populated()
    records = await export(source)
    assert [record["email"] for record in records] == [f"user{i}@example.com" for i in range(5)]
    assert records[0]["roles"] == ["admin", "user"]
    assert records[0]["metadata"] == {}
    assert records[0]["app_metadata"] == {}
    assert records[0]["created_at"].endswith("Z")
    target = make_world()
    outcomes = await run(target, records)
    assert statuses(outcomes) == {ImportStatus.IMPORTED: 5}
    assert await export(target) == records
    stored = await target.repository.get_by_email(Email.parse("user1@example.com"))
    assert stored is not None
    assert stored.credential_epoch == 1


async def test_the_credential_epoch_moves_with_the_user() -> None:
    # Tokens revoked before a move (same signing keys) must stay revoked after it.
    source = make_world()
    ada = await source.register("ada@example.com")
    await source.users.change_password(
        actor=ada, current_password=PASSWORD, new_password="a different long passphrase"
    )
    records = await export(source)
    assert records[0]["credential_epoch"] == 2
    target = make_world()
    await run(target, records)
    moved = await target.repository.get(ada.id)
    assert moved is not None
    assert moved.credential_epoch == 2
    assert not moved.accepts_credentials_of(ada.credential_epoch)


async def test_an_imported_user_logs_in_with_the_same_password() -> None:
    source = await populated(1)
    target = make_world(hasher=source.hasher)
    await run(target, await export(source))
    user = await target.auth.authenticate(email="user0@example.com", password=PASSWORD)
    assert user.email.value == "user0@example.com"


World_PASSWORD = "correct horse battery staple"


async def test_refuses_invalid_records_naming_their_line_and_writes_none_of_them() -> None:
    good = (await export(await populated(1)))[0]
    records = [
        {**good, "email": "not an email"},
        {**good, "password_hash": "$2b$31$" + "a" * 53},
        {**good, "nickname": "x"},
        {**good, "metadata": {"plan": "pro"}},
        {**good, "created_at": "2024-01-01T00:00:00"},
        {**good, "roles": ["Admin!"]},
        {**good, "is_active": "yes"},
        {**good, "version": 0},
        {**good, "id": "123"},
        {key: value for key, value in good.items() if key != "password_hash"},
    ]
    target = make_world()
    outcomes = await run(target, records)
    assert [o.status for o in outcomes] == [ImportStatus.REFUSED] * len(records)
    assert [o.line for o in outcomes] == list(range(1, len(records) + 1))
    reasons = [o.reason or "" for o in outcomes]
    for position, expected in enumerate(
        [
            "email:",
            "password_hash: not a $fast$ test hash",
            "unknown field 'nickname'",
            "metadata: user attributes are not supported yet",
            "created_at: must name its time zone",
            "roles:",
            "is_active: must be true or false",
            "version:",
            "id:",
            "password_hash: is required",
        ]
    ):
        assert reasons[position].startswith(expected), reasons[position]
    assert await export(target) == []


async def test_a_second_record_with_one_normalised_email_is_refused_not_merged() -> None:
    first, second = await export(await populated(2))
    twin = {**second, "email": "USER0@Example.com"}
    target = make_world()
    outcomes = await run(target, [first, twin])
    assert [o.status for o in outcomes] == [ImportStatus.IMPORTED, ImportStatus.REFUSED]
    assert outcomes[1].reason == "same email as line 1 (user0@example.com once normalised)"
    assert [r["id"] for r in await export(target)] == [first["id"]]
    again = await run(target, [first, twin], on_conflict="update")
    assert [o.status for o in again] == [ImportStatus.UNCHANGED, ImportStatus.REFUSED]


async def test_running_an_import_again_changes_nothing() -> None:
    records = await export(await populated())
    target = make_world()
    await run(target, records, batch_size=2)
    again = await run(target, records, batch_size=2)
    assert statuses(again) == {ImportStatus.UNCHANGED: 5}
    assert await export(target) == records


async def test_an_interrupted_import_resumed_has_no_duplicate_and_no_loss() -> None:
    records = await export(await populated(9))
    target = make_world()

    def dies_after(count: int) -> Iterator[dict[str, Any]]:
        yield from records[:count]
        raise KeyboardInterrupt  # the process is stopped mid-file

    with pytest.raises(KeyboardInterrupt):
        await run(target, dies_after(7), batch_size=3)
    assert len(await export(target)) == 6  # two whole batches were written
    outcomes = await run(target, records, batch_size=3)
    assert statuses(outcomes) == {ImportStatus.UNCHANGED: 6, ImportStatus.IMPORTED: 3}
    assert await export(target) == records


async def test_conflicts_are_skipped_updated_or_stop_the_import() -> None:
    records = await export(await populated(3))
    target = make_world()
    await run(target, records)
    renamed = [
        {**record, "name": "Renamed", "version": record["version"] + 1} for record in records
    ]

    skipped = await run(target, renamed)
    assert statuses(skipped) == {ImportStatus.SKIPPED: 3}
    assert "already stored with other values" in (skipped[0].reason or "")
    assert await export(target) == records

    stopped = await run(target, renamed, on_conflict="fail", batch_size=1)
    assert [o.status for o in stopped] == [ImportStatus.REFUSED]
    assert "stopped (--on-conflict fail)" in (stopped[0].reason or "")

    updated = await run(target, renamed, on_conflict="update")
    assert statuses(updated) == {ImportStatus.UPDATED: 3}
    after = await export(target)
    assert [record["name"] for record in after] == ["Renamed"] * 3
    assert [record["id"] for record in after] == [record["id"] for record in records]


async def test_an_email_held_by_another_account_is_a_conflict() -> None:
    records = await export(await populated(1))
    target = make_world()
    target.clock.advance(1000)  # its own user0@example.com, with another id
    target.hasher.hash_calls = 10
    await target.register("user0@example.com")
    await target.hasher.hash("another salt")
    [outcome] = await run(target, records)
    assert outcome.status is ImportStatus.SKIPPED
    assert "email (by user" in (outcome.reason or "")
    [outcome] = await run(target, records, on_conflict="update")
    assert outcome.status is ImportStatus.UPDATED
    stored = (await export(target))[0]
    assert stored["password_hash"] == records[0]["password_hash"]
    assert stored["id"] != records[0]["id"]  # ids never change


async def test_accounts_without_a_password_are_imported_and_cannot_log_in() -> None:
    record = {"email": "nopass@example.com", "password_hash": None}
    target = make_world()
    [outcome] = await run(target, [record])
    assert outcome.status is ImportStatus.IMPORTED
    [exported] = await export(target)
    assert exported["password_hash"] is None
    with pytest.raises(InvalidCredentialsError):
        await target.auth.authenticate(email="nopass@example.com", password="anything at all")


async def test_reads_async_sources_and_refuses_unreadable_lines() -> None:
    good = (await export(await populated(1)))[0]
    text = io.StringIO('{"broken": \n' + _json(good) + "\n[1]\n")
    records = list(read_records(text))
    assert [r.line for r in records] == [1, 2, 3]

    async def stream() -> AsyncIterator[SourceRecord]:
        for record in records:
            yield record

    outcomes = await run(make_world(), stream())
    assert [o.status for o in outcomes] == [
        ImportStatus.REFUSED,
        ImportStatus.IMPORTED,
        ImportStatus.REFUSED,
    ]
    assert [o.line for o in outcomes] == [1, 2, 3]
    assert (outcomes[0].reason or "").startswith("not valid JSON")
    assert outcomes[2].reason == "not a JSON object"


def _json(record: dict[str, Any]) -> str:
    import json

    return json.dumps(record)

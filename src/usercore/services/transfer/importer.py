"""Importing users: validated whole, written in batches, idempotent, so a rerun resumes."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from usercore.domain.errors import EmailTakenError, UserNotFoundError, VersionConflictError
from usercore.domain.user import User
from usercore.ports.clock import Clock, IdFactory
from usercore.ports.hashing import PasswordHasher
from usercore.ports.users import UserRepository
from usercore.services.transfer.records import Candidate, RecordError, record_to_candidate
from usercore.services.transfer.seen import SeenKeys

#: Users written per storage round trip.
DEFAULT_BATCH_SIZE = 500


class OnConflict(enum.StrEnum):
    """What to do with a record whose id or email is already stored with other values."""

    SKIP = "skip"
    UPDATE = "update"
    FAIL = "fail"


class ImportStatus(enum.StrEnum):
    """What became of one record."""

    IMPORTED = "imported"  # stored as a new user
    UNCHANGED = "unchanged"  # already stored exactly so (by an earlier run, say)
    UPDATED = "updated"  # an existing user replaced (--on-conflict update)
    SKIPPED = "skipped"  # its id or email belongs to a stored user with other values
    REFUSED = "refused"  # invalid, a duplicate within the import, or a conflict under fail


@attrs.frozen
class SourceRecord:
    """One record read from an import's source.

    Attributes:
        line: Where it starts in the source (1-based), for reports.
        fields: The record in the export format; None when it could not be read.
        error: Why it could not be read.
        source_id: The id the foreign system gave it, when its id is ours.
    """

    line: int
    fields: Mapping[str, Any] | None
    error: str | None = None
    source_id: str | None = None


@attrs.frozen
class ImportOutcome:
    """What became of the record on ``line``; ``user_id`` is its user's id in usercore."""

    line: int
    status: ImportStatus
    user_id: str | None = None
    email: str | None = None
    source_id: str | None = None
    reason: str | None = None


@attrs.define
class _Pending:
    record: SourceRecord
    candidate: Candidate


class Importer:
    """One import run over a stream of records, in batches of ``batch_size``."""

    def __init__(
        self,
        *,
        users: UserRepository,
        hasher: PasswordHasher,
        clock: Clock,
        ids: IdFactory,
        on_conflict: OnConflict,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._users = users
        self._hasher = hasher
        self._clock = clock
        self._ids = ids
        self._on_conflict = OnConflict(on_conflict)
        self._batch_size = batch_size
        self._seen_ids = SeenKeys()
        self._seen_emails = SeenKeys()
        self._stopped = False

    async def run(
        self, records: Iterable[SourceRecord | Mapping[str, Any]] | AsyncIterable[Any]
    ) -> AsyncIterator[ImportOutcome]:
        """Import ``records``; one outcome per record, in the records' order."""
        # Refusals wait with the batch they fall in, so outcomes come in order.
        pending: list[_Pending | ImportOutcome] = []
        waiting = 0
        position = 0
        async for item in _each(records):
            position += 1
            record = item if isinstance(item, SourceRecord) else SourceRecord(position, item)
            checked = self._validate(record)
            pending.append(checked)
            if isinstance(checked, ImportOutcome):
                continue
            waiting += 1
            if waiting >= self._batch_size:
                async for done in self._flush(pending):
                    yield done
                pending, waiting = [], 0
                if self._stopped:
                    return
        async for done in self._flush(pending):
            yield done

    def _validate(self, record: SourceRecord) -> _Pending | ImportOutcome:
        if record.fields is None:
            return self._refused(record, record.error or "unreadable record")
        try:
            candidate = record_to_candidate(
                record.fields,
                now=self._clock.now(),
                new_id=self._ids.new_id,
                check_hash=self._hasher.check_hash,
            )
        except RecordError as exc:
            return self._refused(record, exc.reason)
        user = candidate.user
        # Two records of one import with one normalised email (or id) are never
        # merged into one account: the later one is refused, naming the first.
        earlier = self._seen_emails.first_line(user.email.value, record.line)
        if earlier is not None:
            reason = f"same email as line {earlier} ({user.email.value} once normalised)"
            return self._refused(record, reason, user)
        earlier = self._seen_ids.first_line(user.id.value, record.line)
        if earlier is not None:
            return self._refused(record, f"same id as line {earlier}", user)
        return _Pending(record, candidate)

    async def _flush(self, pending: list[_Pending | ImportOutcome]) -> AsyncIterator[ImportOutcome]:
        batch = [item for item in pending if isinstance(item, _Pending)]
        stored = await self._users.add_many([item.candidate.user for item in batch])
        rest = [item.candidate.user.id for item in batch if item.candidate.user.id not in stored]
        existing = {user.id: user for user in await self._users.get_many(rest)}
        for item in pending:
            if isinstance(item, ImportOutcome):
                yield item
            elif item.candidate.user.id in stored:
                yield self._outcome(item, ImportStatus.IMPORTED)
            else:
                yield await self._resolve(item, existing.get(item.candidate.user.id))

    async def _resolve(self, item: _Pending, by_id: User | None) -> ImportOutcome:
        candidate = item.candidate
        stored = by_id or await self._users.get_by_email(candidate.user.email)
        if stored is None:
            # Deleted since the batch was written: try once more on its own.
            if await self._users.add_many([candidate.user]):
                return self._outcome(item, ImportStatus.IMPORTED)
            return self._outcome(item, ImportStatus.REFUSED, "changed concurrently; run again")
        if candidate.matches(stored) and (by_id is not None or "id" not in candidate.stated):
            return self._outcome(item, ImportStatus.UNCHANGED, user_id=stored.id.value)
        held = "id" if by_id is not None else f"email (by user {stored.id.value})"
        reason = f"its {held} is already stored with other values"
        if self._on_conflict is OnConflict.SKIP:
            return self._outcome(item, ImportStatus.SKIPPED, reason, user_id=stored.id.value)
        if self._on_conflict is OnConflict.FAIL:
            self._stopped = True
            return self._outcome(
                item, ImportStatus.REFUSED, f"{reason}; stopped (--on-conflict fail)"
            )
        return await self._update(item, stored)

    async def _update(self, item: _Pending, stored: User) -> ImportOutcome:
        replacement = _replacing(stored, item.candidate, self._clock.now())
        try:
            await self._users.update(replacement, expected_version=stored.version)
        except EmailTakenError:
            return self._outcome(
                item, ImportStatus.REFUSED, "its email belongs to another stored user"
            )
        except (VersionConflictError, UserNotFoundError):
            return self._outcome(item, ImportStatus.REFUSED, "changed concurrently; run again")
        return self._outcome(item, ImportStatus.UPDATED, user_id=stored.id.value)

    def _outcome(
        self,
        item: _Pending,
        status: ImportStatus,
        reason: str | None = None,
        *,
        user_id: str | None = None,
    ) -> ImportOutcome:
        user = item.candidate.user
        return ImportOutcome(
            line=item.record.line,
            status=status,
            user_id=user_id or user.id.value,
            email=user.email.value,
            source_id=item.record.source_id,
            reason=reason,
        )

    def _refused(
        self, record: SourceRecord, reason: str, user: User | None = None
    ) -> ImportOutcome:
        return ImportOutcome(
            line=record.line,
            status=ImportStatus.REFUSED,
            email=None if user is None else user.email.value,
            source_id=record.source_id,
            reason=reason,
        )


def _replacing(stored: User, candidate: Candidate, now: datetime) -> User:
    """``stored`` with the record's values: the next version, under the stored id."""
    new = candidate.user
    # A new password (or a deactivation) ends the sessions of the old one.
    ends_sessions = new.password_hash != stored.password_hash or (
        stored.is_active and not new.is_active
    )
    return attrs.evolve(
        stored,
        email=new.email,
        name=new.name,
        roles=new.roles,
        is_active=new.is_active,
        is_verified=new.is_verified,
        password_hash=new.password_hash,
        created_at=new.created_at if "created_at" in candidate.stated else stored.created_at,
        updated_at=new.updated_at if "updated_at" in candidate.stated else now,
        version=stored.version + 1,
        credential_epoch=stored.credential_epoch + (1 if ends_sessions else 0),
    )


async def _each(records: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[Any]:
    if isinstance(records, AsyncIterable):
        async for item in records:
            yield item
    else:
        for item in records:
            yield item

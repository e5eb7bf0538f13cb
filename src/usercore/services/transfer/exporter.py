"""Exporting users: every stored user as a record, page by page, in constant memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from usercore.domain.ids import UserId
from usercore.domain.listing import MAX_PAGE_SIZE, UserQuery
from usercore.ports.users import UserRepository
from usercore.services.transfer.records import user_to_record


async def export_records(
    users: UserRepository, *, page_size: int = MAX_PAGE_SIZE
) -> AsyncIterator[dict[str, Any]]:
    """Every stored user as an export record, in id order.

    Keyset pages by id: a user that exists for the whole export is written
    exactly once, whatever is added, changed or deleted meanwhile; only one
    page is held at a time.
    """
    after: UserId | None = None
    while True:
        page = await users.list(UserQuery(limit=page_size, after=after))
        for user in page.items:
            yield user_to_record(user)
        if page.next_cursor is None or not page.items:
            return
        after = page.items[-1].id

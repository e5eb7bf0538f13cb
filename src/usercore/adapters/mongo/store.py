"""MongoStore: the database both repositories share, checked once for an up-to-date schema."""

from __future__ import annotations

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from usercore.adapters.mongo.documents import Document, user_key
from usercore.adapters.mongo.errors import BACKEND
from usercore.adapters.mongo.schema import SESSIONS, USERS, has_unique_email_index
from usercore.domain.ids import UserId
from usercore.ports.errors import SchemaOutOfDateError


class MongoStore:
    """The users and sessions collections of one database.

    Receives a ready-built database (from ``AsyncMongoClient``); does no I/O
    until first used, so an unreachable server does not stop an application
    from starting.
    """

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.database = database
        self.users: AsyncCollection[Document] = database.get_collection(USERS)
        self.sessions: AsyncCollection[Document] = database.get_collection(SESSIONS)
        self._schema_checked = False

    async def ready(self) -> None:
        """Return once the schema was seen to be up to date (checked on first call only).

        Without the unique email index, concurrent registrations could create
        two accounts with one email, so the adapter refuses to work at all.

        Raises:
            SchemaOutOfDateError: The unique email index is missing.
        """
        if self._schema_checked:
            return
        if not has_unique_email_index(await self.users.index_information()):
            raise SchemaOutOfDateError(BACKEND, "the users collection has no unique email index")
        self._schema_checked = True

    async def user_exists(self, user_id: UserId) -> bool:
        """Whether a user with this id is stored."""
        found = await self.users.find_one({"_id": user_key(user_id)}, projection={"_id": True})
        return found is not None

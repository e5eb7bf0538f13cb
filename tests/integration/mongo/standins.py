"""Stand-ins at the adapter boundary: collections that fail the way a real deployment can.

pymongo's server fault points (``failCommand``) need a real server and
mongomock has none, so faults are injected here, around whichever
collection the test runs on (mongomock-motor's, or a real server's).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

import bson


class FailingCollection:
    """A collection whose ``method`` raises ``error``, after applying the call when ``applied``.

    ``applied=True`` is a write that reached the server but whose answer was
    lost (a network error or timeout after the command was sent, or a write
    concern error). Every other attribute is the wrapped collection's.

    Attributes:
        calls: How many times ``method`` was called.
    """

    def __init__(
        self,
        inner: Any,
        method: str,
        error: BaseException,
        *,
        applied: bool = False,
        times: int = 1,
    ) -> None:
        self._inner = inner
        self._method = method
        self._error = error
        self._applied = applied
        self._times = times
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name != self._method:
            return attribute
        return self._failing(attribute)

    def _failing(self, call: Callable[..., Any]) -> Callable[..., Any]:
        async def failing(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls > self._times:
                return await call(*args, **kwargs)
            if self._applied:
                await call(*args, **kwargs)
            raise self._error

        return failing


class EncodingCollection:
    """A collection that encodes each filter, document and update to BSON first, as pymongo does.

    mongomock-motor keeps Python objects as they are, so values BSON cannot
    hold (lone surrogates, say) would pass through it; a real server's
    driver refuses them while encoding. This makes both behave alike.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute

        def encoding(*args: Any, **kwargs: Any) -> Any:
            for value in (*args, *kwargs.values()):
                if isinstance(value, dict):
                    bson.encode(value)
            return attribute(*args, **kwargs)

        return encoding


class StandInDatabase:
    """A database whose index and collection listings say what the test makes them say.

    Wraps the replies of ``listIndexes`` and ``listCollections`` (from a real
    server or from :class:`~tests.integration.mongo.support.MongomockCommands`):
    the indexes named in ``building`` are listed the way a server lists a
    build in progress (``{spec, buildUUID}``), and the collections in
    ``collations`` get that default collation. ``collections`` wraps the
    collections it names (in a :class:`FailingCollection`, say).
    """

    def __init__(
        self,
        inner: Any,
        *,
        building: set[tuple[str, str]] | None = None,
        collations: Mapping[str, Mapping[str, Any]] | None = None,
        collections: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        self._inner = inner
        self.building = set(building or ())
        self.collations = dict(collations or {})
        self._wrappers = dict(collections or {})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get_collection(self, name: str, *args: Any, **kwargs: Any) -> Any:
        collection = self._inner.get_collection(name, *args, **kwargs)
        wrap = self._wrappers.get(name)
        return collection if wrap is None else wrap(collection)

    async def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        reply = await self._inner.command(command, *args, **kwargs)
        if isinstance(command, Mapping) and "listIndexes" in command:
            collection = command["listIndexes"]
            batch = reply["cursor"]["firstBatch"]
            reply["cursor"]["firstBatch"] = [
                {"spec": index, "buildUUID": uuid.uuid4()}
                if (collection, index["name"]) in self.building
                else index
                for index in batch
            ]
        if isinstance(command, Mapping) and "listCollections" in command:
            for info in reply["cursor"]["firstBatch"]:
                collation = self.collations.get(info["name"])
                if collation is not None:
                    info.setdefault("options", {})["collation"] = dict(collation)
        return reply

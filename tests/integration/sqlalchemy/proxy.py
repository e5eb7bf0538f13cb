"""A small TCP proxy a test puts between the adapter and PostgreSQL, to cut the line at will."""

from __future__ import annotations

import asyncio
import contextlib

import attrs


@attrs.define
class FaultProxy:
    """Forwards 127.0.0.1:``port`` to ``target``, until told to fail.

    ``reset()`` aborts every connection and refuses new ones (the server
    looks down); ``blackhole()`` keeps connections open but forwards nothing
    (the network looks hung); ``restore()`` forwards again.
    ``lose_reply_containing(marker)`` lets a statement through and, once the
    server's reply carrying ``marker`` comes back (a command tag such as
    ``INSERT 0 1``: the statement has committed), drops that reply and cuts
    the connection, once.
    """

    target_host: str
    target_port: int
    port: int = 0
    _server: asyncio.Server | None = None
    _mode: str = "open"
    _flowing: asyncio.Event = attrs.field(factory=asyncio.Event)
    _writers: set[asyncio.StreamWriter] = attrs.field(factory=set)
    _lose_marker: bytes | None = None
    #: How many replies were lost to ``lose_reply_containing``.
    replies_lost: int = 0
    _tasks: set[asyncio.Task[None]] = attrs.field(factory=set)

    async def start(self) -> None:
        """Listen on a free local port (``self.port``)."""
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and drop every connection."""
        self._abort_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def reset(self) -> None:
        """Abort every connection (RST) and refuse new ones."""
        self._mode = "reset"
        self._abort_all()

    def blackhole(self) -> None:
        """Accept and hold connections, forwarding nothing either way."""
        self._mode = "blackhole"
        self._flowing.clear()

    def lose_reply_containing(self, marker: bytes) -> None:
        """Drop the next reply from the server that carries ``marker``, and cut its connection."""
        self._lose_marker = marker

    def restore(self) -> None:
        """Forward again."""
        self._mode = "open"
        self._flowing.set()

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        if self._mode == "reset":
            client.transport.abort()
            return
        self._writers.add(client)
        await self._flowing.wait()
        try:
            upstream_reader, upstream = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            client.transport.abort()
            return
        self._writers.add(upstream)
        pipes = [
            asyncio.ensure_future(self._pipe(client_reader, upstream)),
            asyncio.ensure_future(self._pipe(upstream_reader, client, replies=True)),
        ]
        self._tasks.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
                self._tasks.discard(pipe)
            for writer in (client, upstream):
                self._writers.discard(writer)
                writer.transport.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, replies: bool = False
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                await self._flowing.wait()
                if writer.transport.is_closing():
                    return
                marker = self._lose_marker
                if replies and marker is not None and marker in data:
                    # Committed on the server; the client never hears of it.
                    self._lose_marker = None
                    self.replies_lost += 1
                    return
                writer.write(data)
                await writer.drain()

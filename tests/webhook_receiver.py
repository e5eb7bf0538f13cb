"""A webhook receiver on 127.0.0.1 for the tests: records each POST, answers a chosen status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import attrs


@attrs.define
class Received:
    """One request as it arrived: lower-cased headers and the raw body."""

    headers: dict[str, str]
    body: bytes


@attrs.define
class Receiver:
    """The running receiver: its URL, what it got, and the status it answers."""

    url: str
    received: list[Received] = attrs.field(factory=list)
    status: int = 204


async def _handle(
    receiver: Receiver, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            receiver.received.append(Received(headers, body))
            status = receiver.status
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def webhook_receiver() -> AsyncIterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 until the block ends."""
    receiver = Receiver(url="")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _handle(receiver, reader, writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/hooks/usercore"
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()

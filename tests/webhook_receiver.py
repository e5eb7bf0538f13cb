"""A webhook receiver on 127.0.0.1 for the tests: records each POST, answers a chosen status."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs


@attrs.define
class Received:
    """One request as it arrived: lower-cased headers, the raw body, the status answered."""

    headers: dict[str, str]
    body: bytes
    status: int = 0


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
            status = receiver.status
            receiver.received.append(Received(headers, body, status))
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


class ThreadedReceiver:
    """The same for tests that are not async: an HTTP server in a thread of the test process."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 204
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                with owner._lock:
                    status = owner.status
                    owner.received.append(Received(headers, body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/usercore"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ThreadedReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def snapshot(self) -> list[Received]:
        """What arrived so far."""
        with self._lock:
            return list(self.received)

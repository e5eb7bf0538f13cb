"""WebhookSender: the EventSubscriber port as a signed HTTP POST (Standard Webhooks).

Each event is one request: the JSON body ``{"id", "type", "schema_version",
"occurred_at", "user_id", "actor_id", "data"}``, and the headers
``webhook-id`` (the event id, the same on every retry, so receivers
deduplicate by it), ``webhook-timestamp`` (Unix seconds, when this attempt
was signed) and ``webhook-signature`` (``v1,`` and the base64 HMAC-SHA256 of
``"{id}.{timestamp}.{body}"`` under the secret's key). Any 2xx answer is a
delivery; anything else, a timeout or a connection failure is a failed
attempt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit, urlunsplit

import httpx

from usercore.domain.events import DomainEvent, event_facts
from usercore.ports.events import EventSubscriber

_SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's prefix, not a secret
#: Keys shorter than this are refused: the spec recommends 24 to 64 bytes.
_MIN_KEY_BYTES = 16


def parse_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret.

    Raises:
        ValueError: Not of that form, or too short to be safe.
    """
    if not secret.startswith(_SECRET_PREFIX):
        raise ValueError("a webhook secret looks like whsec_<base64>")
    try:
        key = base64.b64decode(secret[len(_SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"a webhook secret needs at least {_MIN_KEY_BYTES} bytes of key")
    return key


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of one message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def body_of(event: DomainEvent) -> bytes:
    """The JSON body that carries ``event``."""
    facts = {k: list(v) if isinstance(v, tuple) else v for k, v in event_facts(event).items()}
    document = {
        "id": event.id,
        "type": event.type,
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "user_id": event.user_id.value,
        "actor_id": None if event.actor_id is None else event.actor_id.value,
        "data": facts,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def display_url(url: str) -> str:
    """``url`` without credentials, query or fragment: safe to log and to name a subscriber."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class WebhookDeliveryError(Exception):
    """The receiver did not take the event (an answer other than 2xx)."""


class WebhookSender(EventSubscriber):
    """POSTs each event to one URL.

    Args:
        url: The receiver.
        secret: ``whsec_<base64>``; see :func:`parse_secret`.
        client: The HTTP client (its timeouts bound each attempt); closed by its owner.
        name: The subscriber name; defaults to ``webhook:`` and the URL
            without credentials or query.
    """

    def __init__(
        self, url: str, *, secret: str, client: httpx.AsyncClient, name: str | None = None
    ) -> None:
        self._url = url
        self._key = parse_secret(secret)
        self._client = client
        self.name = name or f"webhook:{display_url(url)}"

    async def deliver(self, event: DomainEvent) -> None:  # noqa: D102 - the port's
        body = body_of(event)
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": event.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._key, event.id, timestamp, body),
        }
        response = await self._client.post(self._url, content=body, headers=headers)
        if not response.is_success:
            raise WebhookDeliveryError(f"{display_url(self._url)} answered {response.status_code}")

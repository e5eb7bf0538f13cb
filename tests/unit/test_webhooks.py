"""Webhooks: signed per Standard Webhooks (checked by the standardwebhooks package), 2xx only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from pathlib import Path

import httpx
import pytest
import standardwebhooks

import usercore
from tests.webhook_receiver import webhook_receiver
from usercore.adapters.webhooks import WebhookSender, parse_secret
from usercore.config import SettingsError
from usercore.domain.events import UserUpdated
from usercore.domain.ids import UserId
from usercore.testing import ManualClock, SequentialIds

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
PASSWORD = "correct horse battery staple"


def an_event() -> UserUpdated:
    clock = ManualClock()
    ids = SequentialIds(clock)
    return UserUpdated(
        id=ids.new_id(),
        user_id=UserId(ids.new_id()),
        occurred_at=clock.now(),
        actor_id=UserId(ids.new_id()),
        fields=["name", "roles"],
        email="ada@example.com",
        name="Ada ✓",
        roles=["user", "admin"],
        is_active=True,
        is_verified=False,
    )


async def test_a_delivery_verifies_with_an_independent_implementation() -> None:
    event = an_event()
    async with webhook_receiver() as receiver, httpx.AsyncClient(timeout=5) as client:
        await WebhookSender(receiver.url, secret=SECRET, client=client).deliver(event)
    [request] = receiver.received
    body = standardwebhooks.Webhook(SECRET).verify(request.body, request.headers)
    assert body == {
        "id": event.id,
        "type": "user.updated",
        "schema_version": 1,
        "occurred_at": "2026-01-01T00:00:00Z",
        "user_id": event.user_id.value,
        "actor_id": event.actor_id.value if event.actor_id else None,
        "data": {
            "fields": ["name", "roles"],
            "email": "ada@example.com",
            "name": "Ada ✓",
            "roles": ["admin", "user"],
            "is_active": True,
            "is_verified": False,
        },
    }
    assert request.headers["webhook-id"] == event.id
    assert request.headers["content-type"] == "application/json"
    # The reference computation, by hand.
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{event.id}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert request.headers["webhook-signature"] == f"v1,{expected}"


async def test_a_tampered_body_or_another_secret_does_not_verify() -> None:
    async with webhook_receiver() as receiver, httpx.AsyncClient(timeout=5) as client:
        await WebhookSender(receiver.url, secret=SECRET, client=client).deliver(an_event())
    [request] = receiver.received
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(SECRET).verify(request.body + b" ", request.headers)
    other = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(other).verify(request.body, request.headers)


async def test_anything_but_2xx_is_a_failure() -> None:
    async with webhook_receiver() as receiver, httpx.AsyncClient(timeout=5) as client:
        receiver.status = 500
        sender = WebhookSender(receiver.url, secret=SECRET, client=client)
        with pytest.raises(Exception, match="answered 500"):
            await sender.deliver(an_event())
        receiver.status = 200
        await sender.deliver(an_event())


def test_secrets_must_be_whsec_base64_of_enough_bytes() -> None:
    assert parse_secret(SECRET) == base64.b64decode(SECRET[6:])
    for bad in ("plain", "whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError, match="webhook secret"):
            parse_secret(bad)


def test_the_subscriber_name_hides_credentials_and_query() -> None:
    sender = WebhookSender(
        "https://user:pw@hooks.example.com:8443/in?token=abc",
        secret=SECRET,
        client=httpx.AsyncClient(),
    )
    assert sender.name == "webhook:https://hooks.example.com:8443/in"


async def test_configured_webhooks_receive_every_event_of_the_library(tmp_path: Path) -> None:
    async with (
        webhook_receiver() as one,
        webhook_receiver() as two,
        usercore.connect(
            "memory://",
            argon2_memory_kib=256,
            data_dir=tmp_path,
            webhook_url=f"{one.url}, {two.url}",
            webhook_secret=SECRET,
        ) as core,
    ):
        user = await core.users.register(email="ada@example.com", password=PASSWORD)
        await core.users.delete_self(actor=user, current_password=PASSWORD)
    for receiver in (one, two):
        bodies = [json.loads(r.body) for r in receiver.received]
        assert [b["type"] for b in bodies] == ["user.registered", "user.deleted"]
        assert {b["user_id"] for b in bodies} == {user.id.value}
        text = b"".join(r.body for r in receiver.received)
        assert PASSWORD.encode() not in text


async def test_webhook_urls_need_a_valid_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET"):
        async with usercore.connect(
            "memory://", data_dir=tmp_path, webhook_url="http://127.0.0.1:9/x"
        ):
            pass


async def test_two_urls_that_would_share_a_name_are_refused(tmp_path: Path) -> None:
    urls = "https://hooks.example.com/in?a=1,https://hooks.example.com/in?a=2"
    with pytest.raises(SettingsError, match="WEBHOOK_URL"):
        async with usercore.connect(
            "memory://", data_dir=tmp_path, webhook_url=urls, webhook_secret=SECRET
        ):
            pass

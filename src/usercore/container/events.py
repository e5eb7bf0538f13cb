"""Event delivery: the subscribers (hooks, webhooks) and the dispatcher that feeds them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from dependency_injector import providers

from usercore.config import SettingsError
from usercore.ports.events import EventSubscriber
from usercore.services.hooks import EventKey, Hook, hook_subscribers

if TYPE_CHECKING:
    from usercore.container.core import Container


def subscribe(container: Container, on: Mapping[EventKey, Hook | Iterable[Hook]]) -> None:
    """Make ``on``'s hooks the in-process subscribers of ``container`` (before it starts).

    Raises:
        ValueError: A key names no event type.
    """
    container.hooks.override(providers.Object(hook_subscribers(on)))


def webhook_urls(webhook_url: str | None) -> list[str]:
    """The URLs of ``USERCORE_WEBHOOK_URL``: comma-separated, blanks ignored."""
    return [url.strip() for url in (webhook_url or "").split(",") if url.strip()]


async def open_webhooks(
    webhook_url: str | None, webhook_secret: str | None, timeout_seconds: float
) -> AsyncIterator[list[EventSubscriber]]:
    """One webhook subscriber per configured URL, sharing an HTTP client closed at shutdown.

    Raises:
        SettingsError: URLs without a secret, a malformed secret, or a URL
            that is not http(s).
    """
    urls = webhook_urls(webhook_url)
    if not urls:
        yield []
        return
    if not webhook_secret:
        raise SettingsError("webhook_secret", "is required with webhook_url (whsec_<base64>)")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SettingsError("webhook_url", "each URL must start with http:// or https://")
    import httpx

    from usercore.adapters.webhooks import WebhookSender, parse_secret

    try:
        parse_secret(webhook_secret)
    except ValueError as exc:
        raise SettingsError("webhook_secret", str(exc)) from None
    async with httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False) as client:
        senders: list[EventSubscriber] = [
            WebhookSender(url, secret=webhook_secret, client=client) for url in urls
        ]
        if len({sender.name for sender in senders}) != len(senders):
            # The name keeps each one's place in the outbox: two can't share one.
            raise SettingsError(
                "webhook_url", "two URLs differ only in credentials, query or fragment"
            )
        yield senders


def all_subscribers(
    hooks: Sequence[EventSubscriber], webhooks: Sequence[EventSubscriber]
) -> list[EventSubscriber]:
    """Hooks first, then webhooks."""
    return [*hooks, *webhooks]

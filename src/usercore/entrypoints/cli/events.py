"""``usercore events ...``: list the events delivery gave up on, and ask for another attempt."""

from __future__ import annotations

from collections.abc import Sequence

from usercore.config import Settings
from usercore.container import build_container, resolve
from usercore.entrypoints.cli.accounts import maybe_await
from usercore.ports.events import ParkedEvent
from usercore.services.dispatch import Dispatcher


async def failed_events(settings: Settings, *, subscriber: str | None) -> Sequence[ParkedEvent]:
    """The parked events (of one subscriber, or all), oldest first.

    Raises:
        StorageUnavailableError: Storage does not answer.
    """
    container = build_container(settings)
    await maybe_await(container.init_resources())
    try:
        dispatcher: Dispatcher = await resolve(container.dispatcher())
        return await dispatcher.failed(subscriber)
    finally:
        await maybe_await(container.shutdown_resources())


async def retry_events(settings: Settings, *, subscriber: str | None, event_id: str | None) -> int:
    """Mark parked events for another attempt by the running servers; how many were marked.

    Raises:
        StorageUnavailableError: Storage does not answer.
    """
    container = build_container(settings)
    await maybe_await(container.init_resources())
    try:
        dispatcher: Dispatcher = await resolve(container.dispatcher())
        return await dispatcher.retry(subscriber, event_id)
    finally:
        await maybe_await(container.shutdown_resources())


def describe(parked: ParkedEvent) -> str:
    """One line per parked event: what, for whom, how often it failed, and the last error."""
    event = parked.notification.event
    flag = " (retry requested)" if parked.retry_requested else ""
    return (
        f"{event.id} {event.type} user={event.user_id} subscriber={parked.subscriber} "
        f"attempts={parked.attempts} parked_at={parked.parked_at.isoformat()}{flag} "
        f"error={parked.error!r}"
    )

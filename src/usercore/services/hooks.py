"""In-process hooks: plain functions (sync or async) as subscribers of the outbox."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping

from usercore.domain.events import EVENT_TYPES, DomainEvent
from usercore.ports.events import EventSubscriber

#: A hook: called with each event it asked for; may be a coroutine function. Its
#: parameter may be typed as the event class it is registered for.
Hook = Callable[..., Awaitable[None] | None]
#: What ``on=`` maps: an event class (and its subclasses), a ``type`` name, or ``"*"`` (all).
EventKey = type[DomainEvent] | str


class HookSubscriber(EventSubscriber):
    """One hook for some event types, delivered like any subscriber (at least once, in order).

    Args:
        hook: Called with each wanted event; a raised exception is a failed
            attempt (retried with backoff, then parked). A sync hook runs on
            the event loop: keep it short, or make it async.
        kinds: The event classes it wants (their subclasses too).
        name: Its stable name; defaults to ``hook:<module>.<qualified name>``.
    """

    def __init__(
        self, hook: Hook, kinds: Iterable[type[DomainEvent]], *, name: str | None = None
    ) -> None:
        self._hook = hook
        self._kinds = tuple(kinds)
        self.name = name or f"hook:{hook.__module__}.{getattr(hook, '__qualname__', repr(hook))}"

    async def deliver(self, event: DomainEvent) -> None:  # noqa: D102 - the port's
        if not isinstance(event, self._kinds):
            return
        result = self._hook(event)
        if inspect.isawaitable(result):
            await result


def hook_subscribers(on: Mapping[EventKey, Hook | Iterable[Hook]]) -> list[HookSubscriber]:
    """Subscribers for ``on``: event class, ``type`` name or ``"*"`` -> hook(s).

    A hook named under several keys is one subscriber wanting all of them.

    Raises:
        ValueError: A key names no event type.
    """
    kinds_by_hook: dict[Hook, list[type[DomainEvent]]] = {}
    for key, hooks in on.items():
        kind = _kind(key)
        for hook in [hooks] if callable(hooks) else hooks:
            kinds_by_hook.setdefault(hook, []).append(kind)
    return [HookSubscriber(hook, kinds) for hook, kinds in kinds_by_hook.items()]


def _kind(key: EventKey) -> type[DomainEvent]:
    if key == "*":
        return DomainEvent
    if isinstance(key, str):
        try:
            return EVENT_TYPES[key]
        except KeyError:
            raise ValueError(f"no event type is named {key!r}") from None
    if isinstance(key, type) and issubclass(key, DomainEvent):
        return key
    raise ValueError(f"not an event type: {key!r}")

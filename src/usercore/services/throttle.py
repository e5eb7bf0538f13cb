"""Login throttling: a delay after consecutive failures, per email, account or not."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import timedelta

from usercore.domain.email import Email
from usercore.domain.errors import ThrottledError, ValidationError
from usercore.domain.events import LoginThrottled
from usercore.domain.ids import UserId
from usercore.domain.throttle import ThrottlePolicy
from usercore.ports.clock import Clock
from usercore.ports.errors import StorageUnavailableError
from usercore.ports.throttle import ThrottleStore
from usercore.services import security
from usercore.services.announce import Announcer
from usercore.services.security import SecurityEvent

#: The shortest secret accepted: as long as the HMAC-SHA256 output.
MIN_SECRET_BYTES = 32


class LoginThrottle:
    """Counts failed password checks per email and says when the next attempt may come.

    Counts are kept under an HMAC-SHA256 of the normalised email with a
    server secret, so the store never holds an email, and an unknown or
    malformed email is counted exactly like one that has an account: same
    delays, same ``retry_after``, nothing that tells them apart.

    Use it around every password check of a login or a current-password
    check: :meth:`claim` before verifying (refused inside the delay, before
    any hash), then :meth:`clear` after a right password (and after a
    password reset). A claimed attempt counts as a failure until cleared, so
    attempts racing each other can't all slip through one opening.

    Args:
        store: Where the counts are kept (shared by every process and node).
        policy: Free failures, the doubling delay and its cap.
        secret: The HMAC key, at least 32 bytes; every node must use the same
            one, or each counts apart.
        clock: The time.
    """

    def __init__(
        self, *, store: ThrottleStore, policy: ThrottlePolicy, secret: bytes, clock: Clock
    ) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the throttle secret must be at least {MIN_SECRET_BYTES} bytes")
        self._store = store
        self._policy = policy
        self._secret = secret
        self._clock = clock

    @property
    def policy(self) -> ThrottlePolicy:
        """The policy the delays follow."""
        return self._policy

    def key_for(self, email: Email | str) -> str:
        """The store key of ``email``: a hex HMAC-SHA256 of its normalised form.

        A string that is not a valid email address is keyed by its stripped,
        NFC, case-folded form, so that malformed and unknown emails are
        throttled just like real ones.
        """
        if isinstance(email, Email):
            return self._digest(email.value)
        try:
            return self._digest(Email.parse(email).value)
        except ValidationError:
            return self._digest(unicodedata.normalize("NFC", email.strip()).casefold())

    async def check(self, *, email: Email | str) -> None:
        """Return when an attempt for ``email`` is allowed now; change nothing.

        Raises:
            ThrottledError: Inside the delay; carries the whole seconds to wait.
            StorageUnavailableError: The store did not answer.
        """
        state = await self._store.get(self.key_for(email))
        wait = self._policy.retry_after(state, self._clock.now())
        if wait > 0:
            raise ThrottledError(wait)

    async def claim(self, *, email: Email | str) -> None:
        """Take the right to check one password for ``email``, counted as a failure until cleared.

        Inside the delay the attempt is refused and nothing changes. Otherwise
        the failure is counted *before* the password is checked: of many
        attempts that arrive together when the delay ends, only as many are
        let through as the policy allows, the others are refused (and
        counted, as the attacker's attempts they are).

        Raises:
            ThrottledError: Inside the delay; carries the whole seconds to wait.
            StorageUnavailableError: The store did not answer.
        """
        key = self.key_for(email)
        now = self._clock.now()
        before = await self._store.get(key)
        wait = self._policy.retry_after(before, now)
        if wait > 0:
            raise ThrottledError(wait)
        after = await self._store.record_failure(
            key, now=now, expires_at=self._policy.expires_at(now)
        )
        counted_before = after.failures - 1
        raced = counted_before != (0 if before is None else before.failures)
        if raced and self._policy.delay_after(counted_before) > timedelta(0):
            # Another attempt was counted between our read and our claim, and
            # this one falls inside the delay that one started.
            raise ThrottledError(self._policy.retry_after(after, now))

    async def record_failure(self, *, email: Email | str) -> int:
        """Count one failed attempt for ``email``.

        Returns:
            Whole seconds the next attempt must wait (0 within the free failures).

        Raises:
            StorageUnavailableError: The store did not answer; nothing may
                have been counted.
        """
        now = self._clock.now()
        state = await self._store.record_failure(
            self.key_for(email), now=now, expires_at=self._policy.expires_at(now)
        )
        return self._policy.retry_after(state, now)

    async def clear(self, *, email: Email | str) -> None:
        """Forget the failures of ``email`` (after a successful login or a password reset).

        Raises:
            StorageUnavailableError: The store did not answer.
        """
        await self._store.clear(self.key_for(email))

    async def purge(self) -> int:
        """Drop the records nobody needs any more (expired by ``policy.forget_after``).

        Returns:
            How many records were dropped.
        """
        return await self._store.purge(now=self._clock.now())

    def _digest(self, normalised: str) -> str:
        message = normalised.encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


async def claim_attempt(
    throttle: LoginThrottle | None,
    email: Email | str,
    *,
    user_id: UserId | None = None,
    announcer: Announcer | None = None,
) -> None:
    """Claim one password check for ``email`` (see :meth:`LoginThrottle.claim`); log a refusal.

    A refusal for a known user is announced as ``LoginThrottled`` (with
    ``announcer``); one for an email that may have no account is only logged.

    Raises:
        ThrottledError: Inside the delay.
    """
    if throttle is None:
        return
    try:
        await throttle.claim(email=email)
    except ThrottledError as exc:
        if user_id is not None and announcer is not None:
            event = announcer.make(
                LoginThrottled, user_id=user_id, retry_after=exc.retry_after_seconds
            )
            try:
                await announcer.announce([event])
            except StorageUnavailableError:
                # The refusal stands (429), whether or not its event was stored.
                announcer.written([event])
        else:
            security.record(
                SecurityEvent.LOGIN_THROTTLED, user_id=user_id, retry_after=exc.retry_after_seconds
            )
        raise

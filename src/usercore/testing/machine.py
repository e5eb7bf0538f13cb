"""The user-lifecycle state machine: a backend against a plain model, after every step.

Subclass :class:`UserLifecycleMachine` once per backend, implement
:meth:`~UserLifecycleMachine.open_repositories`, and collect its ``TestCase``::

    class MyBackendMachine(UserLifecycleMachine):
        def open_repositories(self):
            return my_backend_repositories()   # an async context manager

    TestMyBackendMachine = MyBackendMachine.TestCase
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from usercore.domain.email import Email
from usercore.domain.errors import (
    EmailTakenError,
    InvalidCredentialsError,
    UserNotFoundError,
    WeakPasswordError,
)
from usercore.domain.ids import UserId
from usercore.domain.listing import UserQuery, decode_cursor
from usercore.domain.names import parse_name
from usercore.domain.passwords import PasswordPolicy, account_words
from usercore.domain.roles import Role
from usercore.domain.sessions import Session
from usercore.domain.user import User
from usercore.services.auth import AuthService
from usercore.services.passwords import PasswordRules
from usercore.services.sessions import SessionService
from usercore.services.users import UserService
from usercore.testing.contract.base import EPOCH, Repositories
from usercore.testing.doubles import (
    FastTestHasher,
    FixedStrengthEstimator,
    ManualClock,
    SequentialIds,
)
from usercore.testing.strategies import emails, names, passwords

#: A short minimum keeps drawn passwords small; the policy floor is 8. The
#: machine checks storage, not password strength: every estimate is strong.
POLICY = PasswordPolicy(min_length=8)
RULES = PasswordRules(policy=POLICY, estimator=FixedStrengthEstimator())
ADMIN_PASSWORD = "a long passphrase for the operator"


@attrs.define
class ModelUser:
    """What the model expects the backend to hold for one user."""

    id: UserId
    email: str
    name: str
    password: str
    version: int = 1
    is_active: bool = True
    credential_epoch: int = 1


@attrs.define
class ModelSession:
    """What the model expects the backend to hold for one login session."""

    id: str
    user_id: UserId
    epoch: int
    expires_at: datetime
    revoked: bool = False

    def is_live(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return not self.revoked and now < self.expires_at


class UserLifecycleMachine(RuleBasedStateMachine):
    """Registers, authenticates, updates, re-passwords, deactivates, deletes and lists users.

    Users also log in (start sessions), log out, log out everywhere, and
    expired or revoked sessions are purged while time passes. After every
    step the backend's whole listing (paged) must equal the model, credential
    epochs included, every user must be found by email, and every user's
    sessions must be exactly the model's.
    """

    def __init__(self) -> None:
        super().__init__()
        self._runner = asyncio.Runner()
        self._stack = AsyncExitStack()
        repositories = self.run(self._stack.enter_async_context(self.open_repositories()))
        self.repositories: Repositories = repositories
        self.clock = ManualClock(EPOCH)
        self.hasher = FastTestHasher()
        services: dict[str, Any] = {
            "users": repositories.users,
            "hasher": self.hasher,
            "clock": self.clock,
        }
        # Throttling has a machine of its own (ThrottleStoreMachine) and
        # unit tests; here it would only turn the model's wrong-password
        # steps into delays.
        self.users = UserService(
            **services, policy=RULES, ids=SequentialIds(self.clock), throttle=None
        )
        self.auth = AuthService(**services, throttle=None)
        self.session_service = SessionService(
            users=repositories.users, sessions=repositories.sessions, clock=self.clock
        )
        self.session_ids = SequentialIds(self.clock)
        self.model: dict[str, ModelUser] = {}
        self.sessions: dict[str, ModelSession] = {}
        self.admin: User | None = None

    def open_repositories(self) -> AbstractAsyncContextManager[Repositories]:
        """An async context manager yielding repositories over empty storage."""
        raise NotImplementedError

    def run(self, awaitable: Any) -> Any:
        """Run a coroutine on this machine's event loop."""
        return self._runner.run(awaitable)

    def teardown(self) -> None:
        """Close the backend and the machine's event loop."""
        try:
            self.run(self._stack.aclose())
        finally:
            self._runner.close()

    # --- rules ---------------------------------------------------------------

    @initialize()
    def create_operator(self) -> None:
        """An administrator made by the operator path, as the CLI does."""
        self.admin = self.run(
            self.users.create_user(
                email="root@example.com",
                password=ADMIN_PASSWORD,
                roles=frozenset({Role.USER, Role.ADMIN}),
            )
        )
        self.model[self.admin.email.value] = ModelUser(
            self.admin.id, self.admin.email.value, "", ADMIN_PASSWORD
        )

    @rule(email=emails(), password=passwords(POLICY, max_size=24), name=names(max_size=20))
    def register(self, email: str, password: str, name: str) -> None:
        """Register; the model predicts a clash, a weak password or success."""
        normalised = Email.parse(email).value
        try:
            user = self.run(self.users.register(email=email, password=password, name=name))
        except EmailTakenError:
            assert normalised in self.model, "email-taken for a free email"
            return
        except WeakPasswordError:
            # The drawn password passes the policy alone, so a context word
            # (a part of the email or the name) must be what refused it.
            # The policy is checked before the email's uniqueness, so the
            # email may be taken too.
            context = account_words(Email.parse(email), parse_name(name))
            with contextlib.suppress(WeakPasswordError):
                POLICY.check(password, context=context)
                raise AssertionError("a password the policy accepts was refused") from None
            return
        assert normalised not in self.model, "registered a taken email"
        assert (user.version, user.is_active, user.roles) == (1, True, frozenset({Role.USER}))
        self.model[normalised] = ModelUser(user.id, normalised, user.name, password)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), right=st.booleans())
    def authenticate(self, data: st.DataObject, right: bool) -> None:
        """Log in with the right or a wrong password; a failure changes nothing stored."""
        expected = data.draw(st.sampled_from(sorted(self.model.values(), key=_by_email)))
        password = expected.password if right else expected.password + "x"
        before = self.run(self.repositories.users.get(expected.id))
        try:
            user = self.run(self.auth.authenticate(email=expected.email.upper(), password=password))
        except InvalidCredentialsError:
            assert not (right and expected.is_active), "a valid login was refused"
            assert self.run(self.repositories.users.get(expected.id)) == before
            return
        assert right, "a wrong password was accepted"
        assert expected.is_active, "an inactive user logged in"
        assert user.id == expected.id

    @rule(email=emails(), password=passwords(POLICY, max_size=24))
    def authenticate_unknown(self, email: str, password: str) -> None:
        """An email with no account never authenticates."""
        if Email.parse(email).value in self.model:
            return
        try:
            self.run(self.auth.authenticate(email=email, password=password))
        except InvalidCredentialsError:
            return
        raise AssertionError("an unknown email authenticated")

    @precondition(lambda self: self.model)
    @rule(data=st.data(), name=names(max_size=20))
    def rename(self, data: st.DataObject, name: str) -> None:
        """Change one's own name: one more version when it differs."""
        expected, actor = self._pick(data)
        user = self.run(self.users.update_profile(actor=actor, name=name))
        if parse_name(name) != expected.name:
            expected.version += 1
            expected.name = parse_name(name)
        assert (user.name, user.version) == (expected.name, expected.version)

    @precondition(lambda self: len(self.model) > 1)
    @rule(data=st.data(), new_email=emails())
    def change_email(self, data: st.DataObject, new_email: str) -> None:
        """Change one's own email: refused when another account has it."""
        expected, actor = self._pick(data)
        normalised = Email.parse(new_email).value
        try:
            user = self.run(
                self.users.change_email(
                    actor=actor, email=new_email, current_password=expected.password
                )
            )
        except EmailTakenError:
            assert normalised in self.model
            assert normalised != expected.email
            return
        if normalised != expected.email:
            assert normalised not in self.model
            del self.model[expected.email]
            expected.email = normalised
            expected.version += 1
            self.model[normalised] = expected
        assert user.version == expected.version

    @precondition(lambda self: self.model)
    @rule(data=st.data(), new_password=passwords(POLICY, max_size=24))
    def change_password(self, data: st.DataObject, new_password: str) -> None:
        """Change one's password with the current one."""
        expected, actor = self._pick(data)
        try:
            user = self.run(
                self.users.change_password(
                    actor=actor, current_password=expected.password, new_password=new_password
                )
            )
        except WeakPasswordError:
            return
        expected.password = new_password
        expected.version += 1
        expected.credential_epoch += 1
        assert (user.version, user.credential_epoch) == (
            expected.version,
            expected.credential_epoch,
        )

    @precondition(lambda self: len(self.model) > 1)
    @rule(data=st.data())
    def toggle_active(self, data: st.DataObject) -> None:
        """An administrator deactivates or reactivates someone else."""
        expected, _ = self._pick(data, exclude_admin=True)
        assert self.admin is not None
        user = self.run(
            self.users.admin_update(
                actor=self.admin, user_id=expected.id, is_active=not expected.is_active
            )
        )
        expected.is_active = not expected.is_active
        expected.version += 1
        if not expected.is_active:
            # Deactivation voids every token for good: reactivation gets a new epoch.
            expected.credential_epoch += 1
        assert (user.is_active, user.version) == (expected.is_active, expected.version)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def log_out_everywhere(self, data: st.DataObject) -> None:
        """End every session and token of a user: the credential epoch moves on."""
        expected, actor = self._pick(data)
        user = self.run(self.session_service.revoke_all(actor=actor))
        expected.version += 1
        expected.credential_epoch += 1
        for session in self.sessions.values():
            if session.user_id == expected.id:
                session.revoked = True
        assert self.run(self.session_service.list_sessions(actor=user)) == []
        assert user.credential_epoch == expected.credential_epoch
        assert not user.accepts_credentials_of(actor.credential_epoch)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), ttl_seconds=st.integers(min_value=1, max_value=3600))
    def start_session(self, data: st.DataObject, ttl_seconds: int) -> None:
        """A login: a session under the user's current credential epoch."""
        _, actor = self._pick(data)
        now = self.clock.advance(0.001)
        session = Session.start(
            id=self.session_ids.new_id(),
            user_id=actor.id,
            token_hash=f"hash-{len(self.sessions)}",
            now=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
            epoch=actor.credential_epoch,
        )
        self.run(self.repositories.sessions.add(session))
        self.sessions[session.id] = ModelSession(
            session.id, actor.id, actor.credential_epoch, session.expires_at
        )

    @precondition(lambda self: self.sessions)
    @rule(data=st.data())
    def revoke_session(self, data: st.DataObject) -> None:
        """Log out of one session; revoking it again changes nothing."""
        expected = data.draw(st.sampled_from(sorted(self.sessions.values(), key=_by_id)))
        revoked = self.run(self.repositories.sessions.revoke(expected.id, now=self.clock.now()))
        assert revoked is not expected.revoked
        expected.revoked = True

    @rule(seconds=st.integers(min_value=1, max_value=2000))
    def time_passes(self, seconds: int) -> None:
        """Let sessions approach or pass their expiry."""
        self.clock.advance(seconds)

    @rule()
    def purge(self) -> None:
        """Purge deletes exactly the revoked and the expired sessions, nothing live."""
        now = self.clock.now()
        ended = [s.id for s in self.sessions.values() if not s.is_live(now)]
        assert self.run(self.repositories.sessions.purge(now=now)) == len(ended)
        for session_id in ended:
            del self.sessions[session_id]

    @precondition(lambda self: len(self.model) > 1)
    @rule(data=st.data(), by_admin=st.booleans())
    def delete(self, data: st.DataObject, by_admin: bool) -> None:
        """Delete oneself, or be deleted by an administrator."""
        expected, actor = self._pick(data, exclude_admin=True)
        assert self.admin is not None
        if by_admin:
            self.run(self.users.admin_delete(actor=self.admin, user_id=expected.id))
        else:
            self.run(self.users.delete_self(actor=actor, current_password=expected.password))
        del self.model[expected.email]
        for session in [s for s in self.sessions.values() if s.user_id == expected.id]:
            del self.sessions[session.id]
        try:
            self.run(self.users.admin_delete(actor=self.admin, user_id=expected.id))
        except UserNotFoundError:
            return
        raise AssertionError("a deleted user was deleted again")

    # --- invariants ----------------------------------------------------------

    @invariant()
    def listing_matches_the_model(self) -> None:
        """Paging through every user gives exactly the model, in id order."""
        listed: list[User] = []
        query = UserQuery(limit=7)
        while True:
            page = self.run(self.repositories.users.list(query))
            listed.extend(page.items)
            if page.next_cursor is None:
                break
            query = UserQuery(limit=7, after=decode_cursor(page.next_cursor))
        expected = sorted(self.model.values(), key=lambda user: user.id)
        assert [_observed(user) for user in listed] == [_modelled(user) for user in expected]

    @invariant()
    def every_user_is_found_by_email(self) -> None:
        """The email index agrees with the records."""
        for expected in self.model.values():
            user = self.run(self.repositories.users.get_by_email(Email(expected.email)))
            assert user is not None
            assert user.id == expected.id

    @invariant()
    def every_users_sessions_match_the_model(self) -> None:
        """Each user's stored sessions are the model's, in login order, epochs included."""
        for expected in self.model.values():
            stored = self.run(self.repositories.sessions.list_for_user(expected.id))
            modelled = [s for s in self.sessions.values() if s.user_id == expected.id]
            assert [(s.id, s.epoch, s.revoked_at is not None) for s in stored] == [
                (s.id, s.epoch, s.revoked) for s in sorted(modelled, key=_by_id)
            ]

    # --- helpers -------------------------------------------------------------

    def _pick(self, data: st.DataObject, *, exclude_admin: bool = False) -> tuple[ModelUser, User]:
        choices = sorted(self.model.values(), key=_by_email)
        if exclude_admin and self.admin is not None:
            choices = [user for user in choices if user.id != self.admin.id]
        expected = data.draw(st.sampled_from(choices))
        actor = self.run(self.repositories.users.get(expected.id))
        assert actor is not None
        return expected, actor


def _by_email(user: ModelUser) -> str:
    return user.email


def _by_id(session: ModelSession) -> str:
    # Session ids are sequential in time, so id order is login order here.
    return session.id


def _observed(user: User) -> tuple[str, str, str, int, bool, int]:
    return (
        user.id.value,
        user.email.value,
        user.name,
        user.version,
        user.is_active,
        user.credential_epoch,
    )


def _modelled(user: ModelUser) -> tuple[str, str, str, int, bool, int]:
    return (
        user.id.value,
        user.email,
        user.name,
        user.version,
        user.is_active,
        user.credential_epoch,
    )

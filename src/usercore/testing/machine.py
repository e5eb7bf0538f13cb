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
from usercore.domain.user import User
from usercore.services.auth import AuthService
from usercore.services.passwords import PasswordRules
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


class UserLifecycleMachine(RuleBasedStateMachine):
    """Registers, authenticates, updates, re-passwords, deactivates, deletes and lists users.

    After every step the backend's whole listing (paged) must equal the
    model, and every user must be found by email.
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
        self.users = UserService(**services, policy=RULES, ids=SequentialIds(self.clock))
        self.auth = AuthService(**services)
        self.model: dict[str, ModelUser] = {}
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
            user = self.run(self.users.update_profile(actor=actor, email=new_email))
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
        assert user.version == expected.version

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
        assert (user.is_active, user.version) == (expected.is_active, expected.version)

    @precondition(lambda self: len(self.model) > 1)
    @rule(data=st.data(), by_admin=st.booleans())
    def delete(self, data: st.DataObject, by_admin: bool) -> None:
        """Delete oneself, or be deleted by an administrator."""
        expected, actor = self._pick(data, exclude_admin=True)
        assert self.admin is not None
        if by_admin:
            self.run(self.users.admin_delete(actor=self.admin, user_id=expected.id))
        else:
            self.run(self.users.delete_self(actor=actor))
        del self.model[expected.email]
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


def _observed(user: User) -> tuple[str, str, str, int, bool]:
    return (user.id.value, user.email.value, user.name, user.version, user.is_active)


def _modelled(user: ModelUser) -> tuple[str, str, str, int, bool]:
    return (user.id.value, user.email, user.name, user.version, user.is_active)

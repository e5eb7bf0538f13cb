"""The composition root: the one place that knows which adapters are plugged in."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs
from dependency_injector import containers, providers

from usercore.adapters.argon2 import Argon2Parameters, Argon2PasswordHasher, default_concurrency
from usercore.adapters.foreign_hashes import ForeignHashVerifier, HashLimits
from usercore.adapters.jwt import JwtAccessTokenSigner, JwtAccessTokenVerifier
from usercore.adapters.system import SystemClock, Uuid7Factory
from usercore.adapters.zxcvbn import ZxcvbnStrengthEstimator
from usercore.config import Settings
from usercore.container.events import all_subscribers, open_webhooks
from usercore.container.keys import open_signing_keys
from usercore.container.storage import (
    Storage,
    backend_for,
    check_sqlite_directory,
    open_storage,
)
from usercore.container.throttle import open_throttle_secret, open_throttle_store
from usercore.domain.passwords import PasswordPolicy
from usercore.domain.throttle import ThrottlePolicy
from usercore.ports.events import EventSubscriber
from usercore.ports.throttle import ThrottleStore
from usercore.services.announce import Announcer
from usercore.services.auth import AuthService
from usercore.services.dispatch import DeliveryPolicy, Dispatcher
from usercore.services.passwords import PasswordRules
from usercore.services.sessions import SessionService
from usercore.services.throttle import LoginThrottle
from usercore.services.tokens import TokenService
from usercore.services.users import UserService


def _argon2_hasher(
    *,
    memory_kib: int,
    time_cost: int,
    parallelism: int,
    concurrency: int,
    workers: int,
    queue_limit: int,
    limits: HashLimits,
    flask_security_salt: str | None,
) -> Iterator[Argon2PasswordHasher]:
    # argon2id made here, hashes imported from other systems verified on the same threads.
    foreign = ForeignHashVerifier(
        limits,
        flask_security_key=None if flask_security_salt is None else flask_security_salt.encode(),
    )
    hasher = Argon2PasswordHasher(
        Argon2Parameters(memory_cost_kib=memory_kib, time_cost=time_cost, parallelism=parallelism),
        concurrency=concurrency or default_concurrency(workers),
        queue_limit=queue_limit,
        max_cost=Argon2Parameters(
            memory_cost_kib=limits.argon2_memory_kib,
            time_cost=limits.argon2_time_cost,
            parallelism=limits.argon2_parallelism,
        ),
        foreign=foreign,
    )
    try:
        yield hasher
    finally:
        hasher.close()


class Container(containers.DeclarativeContainer):
    """Builds every usercore service from :class:`~usercore.config.Settings`.

    Make one with :func:`build_container`, then ``await init_resources()``
    before use and ``await shutdown_resources()`` after (or use
    :func:`usercore.connect`, which does both).
    """

    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(Uuid7Factory)
    hasher = providers.Resource(
        _argon2_hasher,
        memory_kib=config.argon2_memory_kib,
        time_cost=config.argon2_time_cost,
        parallelism=config.argon2_parallelism,
        concurrency=config.hash_concurrency,
        workers=config.workers,
        queue_limit=config.hash_queue_limit,
        limits=providers.Factory(
            HashLimits,
            bcrypt_rounds=config.hash_max_bcrypt_rounds,
            pbkdf2_iterations=config.hash_max_pbkdf2_iterations,
            argon2_memory_kib=config.hash_max_argon2_memory_kib,
            argon2_time_cost=config.hash_max_argon2_time_cost,
            argon2_parallelism=config.hash_max_argon2_parallelism,
            scrypt_memory_kib=config.hash_max_scrypt_memory_kib,
        ),
        flask_security_salt=config.flask_security_password_salt,
    )
    password_policy = providers.Singleton(
        PasswordPolicy,
        min_length=config.password_min_length,
        min_score=config.password_min_score,
    )
    # zxcvbn itself is loaded at the first estimate, not here.
    strength_estimator = providers.Singleton(ZxcvbnStrengthEstimator)
    password_rules = providers.Singleton(
        PasswordRules, policy=password_policy, estimator=strength_estimator
    )

    storage: providers.Resource[Storage] = providers.Resource(
        open_storage,
        database_url=config.database_url,
        pool_size=config.db_pool_size,
        timeout_seconds=config.db_timeout_seconds,
    )
    user_repository = storage.provided.users
    session_repository = storage.provided.sessions
    event_log = storage.provided.events
    # Makes every event and stores those that go with no user write.
    announcer = providers.Singleton(Announcer, clock=clock, ids=ids, log=event_log)

    # Login throttling: counts in the database's store, or in Redis when
    # throttle_url is set; keyed by an HMAC whose key is read (or, on first
    # start, created) beside the signing keys when first needed.
    throttle_store: providers.Resource[ThrottleStore] = providers.Resource(
        open_throttle_store,
        storage=storage,
        throttle_url=config.throttle_url,
        pool_size=config.db_pool_size,
        timeout_seconds=config.db_timeout_seconds,
    )
    throttle_policy = providers.Singleton(
        ThrottlePolicy,
        free_failures=config.login_free_failures,
        max_delay_seconds=config.login_max_delay_seconds,
    )
    throttle_secret = providers.Singleton(
        open_throttle_secret,
        database_url=config.database_url,
        throttle_url=config.throttle_url,
        signing_key_file=config.signing_key_file,
        data_dir=config.data_dir,
    )
    login_throttle = providers.Singleton(
        LoginThrottle,
        store=throttle_store,
        policy=throttle_policy,
        secret=throttle_secret,
        clock=clock,
    )

    user_service = providers.Singleton(
        UserService,
        users=user_repository,
        hasher=hasher,
        policy=password_rules,
        clock=clock,
        ids=ids,
        throttle=login_throttle,
        announcer=announcer,
    )
    auth_service = providers.Singleton(
        AuthService,
        users=user_repository,
        hasher=hasher,
        clock=clock,
        throttle=login_throttle,
        announcer=announcer,
    )

    # Tokens. The keys are read (or, on first start, created) once, when first
    # needed: a library user who never issues tokens gets no key file. The
    # server resolves token_service at start-up, so a bad key file stops it there.
    signing_keys = providers.Singleton(
        open_signing_keys,
        signing_key_file=config.signing_key_file,
        data_dir=config.data_dir,
        database_url=config.database_url,
    )
    access_token_signer = providers.Singleton(
        JwtAccessTokenSigner, keys=signing_keys, issuer=config.issuer, audience=config.audience
    )
    access_token_verifier = providers.Singleton(
        JwtAccessTokenVerifier, keys=signing_keys, issuer=config.issuer, audience=config.audience
    )
    token_service = providers.Singleton(
        TokenService,
        users=user_repository,
        sessions=session_repository,
        auth=auth_service,
        signer=access_token_signer,
        verifier=access_token_verifier,
        public_keys=signing_keys,
        clock=clock,
        ids=ids,
        access_token_ttl_seconds=config.access_token_ttl_seconds,
        refresh_token_ttl_seconds=config.refresh_token_ttl_seconds,
        session_max_age_seconds=config.session_max_age_seconds,
        max_sessions=config.max_sessions,
        refresh_reuse_interval_seconds=config.refresh_reuse_interval_seconds,
        announcer=announcer,
    )
    session_service = providers.Singleton(
        SessionService,
        users=user_repository,
        sessions=session_repository,
        clock=clock,
        announcer=announcer,
    )

    # Event delivery. ``hooks`` is what ``usercore.connect(on=...)`` (or a
    # host application, by overriding it) subscribes in process.
    hooks: providers.Provider[Sequence[EventSubscriber]] = providers.Object(())
    webhooks: providers.Resource[list[EventSubscriber]] = providers.Resource(
        open_webhooks,
        webhook_url=config.webhook_url,
        webhook_secret=config.webhook_secret,
        timeout_seconds=config.webhook_timeout_seconds,
    )
    subscribers = providers.Singleton(all_subscribers, hooks=hooks, webhooks=webhooks)
    delivery_policy = providers.Singleton(
        DeliveryPolicy,
        max_attempts=config.event_max_attempts,
        retention_seconds=config.event_retention_seconds,
        lease_seconds=config.event_lease_seconds,
    )
    dispatcher = providers.Singleton(
        Dispatcher, log=event_log, subscribers=subscribers, clock=clock, policy=delivery_policy
    )


def build_container(settings: Settings | None = None) -> Container:
    """A container configured from ``settings`` (default: the environment's).

    Raises:
        SettingsError: A setting is unusable; the message names it.
    """
    settings = settings if settings is not None else Settings.load()
    # Fail on an unknown scheme or a missing SQLite directory now, not at first use.
    backend_for(settings.database_url)
    check_sqlite_directory(settings.database_url, settings.data_dir)
    container = Container()
    container.config.from_dict(attrs.asdict(settings, recurse=False))
    return container

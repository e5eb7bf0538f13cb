"""The reference peer: fastapi-users with its SQLAlchemy adapter and JWT bearer auth.

Configured as a user of fastapi-users would, except that password hashing uses
the same argon2id parameters as usercore (m=19456 KiB, t=2, p=1), so a login or
a registration costs the same hash on both. Settings come from ``BENCH_*``
environment variables, as each server worker builds its own app.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.password import PasswordHelper
from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SECRET = os.environ.get("BENCH_JWT_SECRET", "bench-secret-of-at-least-thirty-two-bytes!")
TOKEN_LIFETIME_SECONDS = 24 * 3600


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    # A profile field like usercore's, added the way fastapi-users documents it.
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")


class UserRead(schemas.BaseUser[uuid.UUID]):
    name: str = ""


class UserCreate(schemas.BaseUserCreate):
    name: str = ""


class UserUpdate(schemas.BaseUserUpdate):
    name: str | None = None


def password_helper() -> PasswordHelper:
    """fastapi-users' helper with usercore's argon2id parameters."""
    hasher = Argon2Hasher(time_cost=2, memory_cost=19_456, parallelism=1)
    return PasswordHelper(PasswordHash((hasher,)))


def make_engine(url: str | None = None) -> Any:
    size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    url = url or os.environ["BENCH_SQLALCHEMY_URL"]
    return create_async_engine(url, pool_size=size, max_overflow=0)


def create_app() -> FastAPI:
    """One worker's app."""
    engine = make_engine()
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    helper = password_helper()

    class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
        reset_password_token_secret = SECRET
        verification_token_secret = SECRET

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

    async def get_user_db(session: AsyncSession = Depends(get_session)) -> Any:  # noqa: B008
        yield SQLAlchemyUserDatabase(session, User)

    async def get_user_manager(user_db: Any = Depends(get_user_db)) -> Any:  # noqa: B008
        yield UserManager(user_db, helper)

    def get_jwt_strategy() -> JWTStrategy[User, uuid.UUID]:
        return JWTStrategy(secret=SECRET, lifetime_seconds=TOKEN_LIFETIME_SECONDS)

    backend = AuthenticationBackend(
        name="jwt",
        transport=BearerTransport(tokenUrl="auth/jwt/login"),
        get_strategy=get_jwt_strategy,
    )
    users = FastAPIUsers[User, uuid.UUID](get_user_manager, [backend])

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(users.get_auth_router(backend), prefix="/auth/jwt")
    app.include_router(users.get_register_router(UserRead, UserCreate), prefix="/auth")
    app.include_router(users.get_users_router(UserRead, UserUpdate), prefix="/users")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def create_schema(url: str) -> None:
    """Create fastapi-users' table (once, before any worker starts)."""
    engine = make_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    await engine.dispose()

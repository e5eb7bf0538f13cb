"""SQL storage on SQLAlchemy 2 (async): embedded SQLite by default, PostgreSQL for production."""

from usercore.adapters.sqlalchemy.database import SqlAlchemyDatabase, migrate
from usercore.adapters.sqlalchemy.engine import ConnectSettings
from usercore.adapters.sqlalchemy.events import SqlAlchemyEventLog
from usercore.adapters.sqlalchemy.sessions import SqlAlchemySessionRepository
from usercore.adapters.sqlalchemy.throttle import SqlAlchemyThrottleStore
from usercore.adapters.sqlalchemy.users import SqlAlchemyUserRepository

__all__ = [
    "ConnectSettings",
    "SqlAlchemyDatabase",
    "SqlAlchemyEventLog",
    "SqlAlchemySessionRepository",
    "SqlAlchemyThrottleStore",
    "SqlAlchemyUserRepository",
    "migrate",
]

"""MongoDB storage on pymongo's async client: the storage ports, indexes and client setup."""

from usercore.adapters.mongo.client import DEFAULT_DATABASE, default_database, mongo_client
from usercore.adapters.mongo.events import MongoEventLog
from usercore.adapters.mongo.migration import migrate_schema
from usercore.adapters.mongo.sessions import MongoSessionRepository
from usercore.adapters.mongo.store import MongoStore
from usercore.adapters.mongo.throttle import MongoThrottleStore
from usercore.adapters.mongo.users import MongoUserRepository

__all__ = [
    "DEFAULT_DATABASE",
    "MongoEventLog",
    "MongoSessionRepository",
    "MongoStore",
    "MongoThrottleStore",
    "MongoUserRepository",
    "default_database",
    "migrate_schema",
    "mongo_client",
]

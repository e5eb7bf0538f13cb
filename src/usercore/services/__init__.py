"""Use cases: the only thing entrypoints call."""

from usercore.services.auth import AuthService
from usercore.services.passwords import PasswordRules
from usercore.services.sessions import SessionService
from usercore.services.throttle import LoginThrottle
from usercore.services.tokens import TokenPair, TokenService
from usercore.services.users import UserService

__all__ = [
    "AuthService",
    "LoginThrottle",
    "PasswordRules",
    "SessionService",
    "TokenPair",
    "TokenService",
    "UserService",
]

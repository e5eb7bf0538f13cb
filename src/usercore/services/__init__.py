"""Use cases: the only thing entrypoints call."""

from usercore.services.auth import AuthService
from usercore.services.passwords import PasswordRules
from usercore.services.tokens import TokenPair, TokenService
from usercore.services.users import UserService

__all__ = ["AuthService", "PasswordRules", "TokenPair", "TokenService", "UserService"]

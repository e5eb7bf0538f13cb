"""Errors that only exist at the HTTP edge (the domain's errors are in usercore.domain.errors)."""

from __future__ import annotations

from usercore.domain.errors import UserCoreError


class AuthenticationRequiredError(UserCoreError):
    """The route needs a bearer token and the request sent none."""

    def __init__(self) -> None:
        super().__init__("this request needs a bearer access token")


class UnsupportedMediaTypeError(UserCoreError):
    """The request body has a content type the route does not take."""

    def __init__(self, expected: str) -> None:
        super().__init__(f"send the body as {expected}")
        self.expected = expected


class UnsupportedGrantTypeError(UserCoreError):
    """The token endpoint was asked for a grant type it does not support."""

    def __init__(self) -> None:
        super().__init__("unsupported grant type")

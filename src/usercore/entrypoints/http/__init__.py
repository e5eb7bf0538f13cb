"""The bundled HTTP server: the API of API.md on Litestar, built by :func:`create_app`."""

from usercore.entrypoints.http.app import create_app

__all__ = ["create_app"]

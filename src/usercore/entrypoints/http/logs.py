"""Logging set-up for the server: one JSON (or console) line per event, each with its request id."""

from __future__ import annotations

import logging
import sys
import time
from typing import Literal

import msgspec

from usercore.entrypoints.http.observability import current_request_id

#: Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class RequestIdFilter(logging.Filter):
    """Stamps every record with the id of the request being handled (or None)."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102 - see the class
        record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extras."""

    def format(self, record: logging.LogRecord) -> str:  # noqa: D102 - see the class
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value) for key, value in vars(record).items() if key not in _STANDARD_ATTRS
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry).decode()


class ConsoleFormatter(logging.Formatter):
    """``time level logger message key=value ...`` for humans at a terminal."""

    def format(self, record: logging.LogRecord) -> str:  # noqa: D102 - see the class
        extras = " ".join(
            f"{key}={value}" for key, value in vars(record).items() if key not in _STANDARD_ATTRS
        )
        line = (
            f"{time.strftime('%H:%M:%S', time.gmtime(record.created))} "
            f"{record.levelname:<7} {record.name}: {record.getMessage()} {extras}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(
    *, log_format: Literal["json", "console"] = "json", level: str = "INFO"
) -> None:
    """Send usercore's logs to stderr in ``log_format``; call once per process, at start.

    Raises:
        ValueError: ``level`` is not a logging level name.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else ConsoleFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())

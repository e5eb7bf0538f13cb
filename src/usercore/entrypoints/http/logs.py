"""Logging set-up for the server: one JSON (or console) line per event, each with its request id."""

from __future__ import annotations

import logging
import sys
import time
from typing import Literal

import msgspec

from usercore.entrypoints.http.observability import current_request_id
from usercore.services.security import SECURITY_LOGGER

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

    def __init__(self) -> None:
        super().__init__()
        # Every request logs a line: format each second's timestamp once.
        self._second = -1
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:  # noqa: D102 - see the class
        second = int(record.created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        entry: dict[str, object] = {
            "ts": f"{self._stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = vars(record)
        for key in fields.keys() - _STANDARD_ATTRS:
            entry[key] = fields[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # Extras of other libraries may be any object: those are logged as their str().
        return msgspec.json.encode(entry, enc_hook=str).decode()


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
    # Security events are an audit trail: written whatever the level.
    logging.getLogger(SECURITY_LOGGER).setLevel(logging.INFO)
    # Per-record work nobody reads (see "Optimization" in the logging docs):
    # the caller's frame, thread and process names.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False


def server_log_config(log_format: Literal["json", "console"] = "json") -> dict[str, object]:
    """A ``logging.config.dictConfig`` for the ASGI server's own loggers, in our format."""
    formatter = JsonFormatter if log_format == "json" else ConsoleFormatter
    handler = {
        "formatter": "usercore",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "filters": ["request_id"],
    }
    return {
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"usercore": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {"console": handler, "access": handler},
    }

"""One logging configuration for the server and its commands.

`configure_logging(settings)` sends every logger (ours, uvicorn's, the libraries') to one
handler on stderr: one JSON object per line in production, a readable line otherwise.
The handler's `ScrubFilter` masks personal data and credentials in the message, its
arguments and the exception text before anything is written, so a careless log call
cannot leak a mobile number, an ID number, a card, an e-mail address or a link token.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from server.crypto import mask_account, mask_id, mask_phone
from server.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# the loggers uvicorn gives handlers of its own; they are routed to ours instead
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")

_STOP = r"[/?#&\s\"'<>]"  # what ends a path segment or a query value
_EDGE = r"[^/?#&\s\"'<>]"  # a character of one

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

# Order matters: credentials in links first, then the longest digit runs.
_RULES: tuple[_Rule, ...] = (
    # ?token=… &sig=… signature=… (access_token=… too): the value goes, the name stays
    (
        re.compile(rf"(?i)(?<![a-z0-9])(token|sig|signature)={_EDGE}+"),
        lambda m: f"{m.group(1)}=***",
    ),
    # where a visitor is: ?lat=…&lng=… (already rounded to ~100 m) and a typed ?place=…
    # are not kept in the access log; the name stays, so the log still shows a nearby search
    (
        re.compile(rf"(?i)(?<![a-z0-9_])(lat|lng|place)={_EDGE}+"),
        lambda m: f"{m.group(1)}=***",
    ),
    # Authorization: Bearer …
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+"), lambda m: f"{m.group(1)}***"),
    # tokenised links: /h5/supplement/<token> (not the portal's fixed pages),
    # /claim-files/<token>, /certificates/<token>.pdf
    (
        re.compile(rf"(/supplement/)(?!(?:claim|captcha)(?:{_STOP}|$)){_EDGE}+"),
        lambda m: f"{m.group(1)}***",
    ),
    (re.compile(rf"(/claim-files/){_EDGE}+"), lambda m: f"{m.group(1)}***"),
    (
        re.compile(rf"(/certificates/){_EDGE}+?(\.(?:pdf|html))?(?={_STOP}|$)"),
        lambda m: f"{m.group(1)}***{m.group(2) or ''}",
    ),
    # e-mail: z***@example.com, as the mail sender logs addresses
    (
        re.compile(
            r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
        ),
        lambda m: f"{m.group(1)}***@{m.group(2)}",
    ),
    # resident ID number: 17 digits and a check digit or X
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), lambda m: mask_id(m.group())),
    # mainland mobile number
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), lambda m: mask_phone(m.group())),
    # bank-card-like runs of 12 to 19 digits
    (re.compile(r"(?<!\d)\d{12,19}(?!\d)"), lambda m: mask_account(m.group())),
)


def scrub(text: str) -> str:
    """`text` with personal data and link credentials masked."""
    for pattern, replace in _RULES:
        text = pattern.sub(replace, text)
    return text


def _scrub_value(value: object) -> object:
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, bool | int | float):
        return value  # numbers keep their type for %d; the formatted message is checked
    text = str(value)
    clean = scrub(text)
    return value if clean == text else clean


class ScrubFilter(logging.Filter):
    """Masks personal data in a record's message, arguments, exception and stack text."""

    _plain = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            # arguments stay arguments where they can (uvicorn's access formatter reads them)
            if isinstance(record.args, Mapping):
                record.args = {k: _scrub_value(v) for k, v in record.args.items()}
            else:
                record.args = tuple(_scrub_value(v) for v in record.args)
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                return True  # a malformed call: logging reports it as it always does
            clean = scrub(message)
            if clean != message:  # in the format string, or a number that is personal data
                record.msg, record.args = clean, None
        else:
            record.msg = scrub(record.msg if isinstance(record.msg, str) else str(record.msg))
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = scrub(self._plain.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and exception when any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at the time, so a replaced stream is followed."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def log_level(name: str) -> int:
    """The numeric level of a LOG_LEVEL value (DEBUG, INFO, WARNING, ERROR, CRITICAL)."""
    levels = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    value = name.strip().upper()
    if value not in levels:
        raise ValueError(f"LOG_LEVEL must be one of {', '.join(sorted(levels))}, not {name!r}")
    return logging.getLevelNamesMapping()[value]


def configure_logging(settings: Settings) -> logging.Handler:
    """Route every logger to one scrubbed stderr handler; returns that handler.

    Calling it again (every create_app does) replaces the handler it installed before and
    leaves handlers others installed (a test runner's capture) in place.
    """
    level = log_level(settings.log_level)
    handler = StderrHandler()
    handler.set_name("server")
    handler.addFilter(ScrubFilter())
    if settings.environment == "production":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "server"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)

    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        # uvicorn's own handlers would write unscrubbed paths in their own format; a logger
        # uvicorn silenced (--no-access-log: no handler, not propagating) stays silent
        if logger.handlers:
            for old in list(logger.handlers):
                logger.removeHandler(old)
            logger.propagate = True
        if logger.propagate and logger.level != logging.NOTSET:
            # the stricter of uvicorn's --log-level and LOG_LEVEL
            logger.setLevel(max(logger.level, level))
    return handler

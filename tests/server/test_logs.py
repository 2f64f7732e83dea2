"""server/logs.py: one configuration, JSON lines in production, personal data scrubbed."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from server.app import create_app
from server.logs import ScrubFilter, configure_logging, scrub
from server.services import Services
from server.settings import Settings, from_env
from tests.h5.browser_helpers import free_port

PHONE = "13612341560"
RESIDENT_ID = "11010519491231002X"
CARD = "6222021234567890123"
EMAIL = "zhang.san@example.com"
SECRETS = (PHONE, RESIDENT_ID, CARD, "zhang.san", "s3cr3t-t0ken", "abcdef123")

pytestmark = pytest.mark.usefixtures("restore_logging")


# --- the scrubber ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"sms to {PHONE}", "sms to 136****1560"),
        (f"手机{PHONE}，", "手机136****1560，"),
        (f"id {RESIDENT_ID}", "id 1101**********002X"),
        ("id 110105194912310021.", "id 1101**********0021."),
        (f"card {CARD}", "card ***************0123"),
        ("card 622202123456", "card ********3456"),
        (f"mail {EMAIL} bounced", "mail z***@example.com bounced"),
        (f"邮箱{EMAIL}", "邮箱z***@example.com"),
        (
            "GET /claim-files/doc.7.member.3.1767225600.abc-DEF_1 HTTP/1.1",
            "GET /claim-files/*** HTTP/1.1",
        ),
        ("/certificates/12.3.1767225600.mAc-_9.pdf 404", "/certificates/***.pdf 404"),
        ("/h5/supplement/s3cr3t-t0ken?lang=en", "/h5/supplement/***?lang=en"),
        ("/api/x?token=s3cr3t-t0ken&lang=en", "/api/x?token=***&lang=en"),
        ("/api/x?a=1&sig=abcdef123#top", "/api/x?a=1&sig=***#top"),
        ("signature=abcdef123 access_token=abcdef123", "signature=*** access_token=***"),
        ("Authorization: Bearer abc.DEF-123_x", "Authorization: Bearer ***"),
        (
            "GET /h5/en/medical?q=renji&lat=31.232&lng=121.473&sort=distance HTTP/1.1",
            "GET /h5/en/medical?q=renji&lat=***&lng=***&sort=distance HTTP/1.1",
        ),
        ("/h5/zh/dental?place=%E5%B1%B1%E4%B8%9C%E4%B8%AD%E8%B7%AF", "/h5/zh/dental?place=***"),
        (
            "/h5/en/medical?LAT=31.2&flat=3&place=Pudong+hotel",
            "/h5/en/medical?LAT=***&flat=3&place=***",
        ),
    ],
)
def test_personal_data_and_link_credentials_are_masked(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "claim VSHH26030299999 submitted (claim id 42)",
        "/h5/supplement/claim/upload?category=invoice",
        "/h5/supplement/claim",
        "/h5/supplement/captcha/Yc2l?lang=en",
        "built the OpenStreetMap corpus in var/osm: 532 facilities",
        "notification 12 retried after 300 s",
        "z***@example.com 136****1560",  # already masked: stays as it is
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub(text) == text


def _record(msg: object, args: Any = (), exc_info: Any = None) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, exc_info)


def test_the_filter_masks_the_message_and_its_arguments() -> None:
    record = _record("sms to %s (%s) for %s", (PHONE, EMAIL, int(PHONE)))

    assert ScrubFilter().filter(record)

    assert record.getMessage() == "sms to 136****1560 (z***@example.com) for 136****1560"


def test_the_filter_masks_what_the_format_string_and_its_arguments_make_together() -> None:
    record = _record("GET /api/files?token=%s&sig=%s for %s", ("s3cr3t-t0ken", "abc", PHONE))
    ScrubFilter().filter(record)
    assert record.getMessage() == "GET /api/files?token=***&sig=*** for 136****1560"


def test_the_filter_keeps_numbers_that_are_no_personal_data_as_arguments() -> None:
    record = _record("claim %d: %s", (42, PHONE))
    ScrubFilter().filter(record)
    # a formatter that reads the arguments (uvicorn's access formatter does) still gets them
    assert record.args == (42, "136****1560")


def test_the_filter_masks_mapping_arguments() -> None:
    record = _record("%(who)s at %(card)s", {"who": EMAIL, "card": CARD})
    ScrubFilter().filter(record)
    assert record.getMessage() == "z***@example.com at ***************0123"


def test_the_filter_masks_the_exception_text() -> None:
    try:
        raise ValueError(f"duplicate key (mobile)=({PHONE}) for {RESIDENT_ID}")
    except ValueError:
        record = _record("insert failed", exc_info=sys.exc_info())
    ScrubFilter().filter(record)

    text = logging.Formatter().format(record)
    assert "ValueError: duplicate key (mobile)=(136****1560) for 1101**********002X" in text
    assert PHONE not in text and RESIDENT_ID not in text


# --- the configuration -------------------------------------------------------------------------


def _lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_production_writes_one_json_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(
        Settings(environment="production", secret_key="x" * 32, encryption_key="y" * 32)
    )
    log = logging.getLogger("server.claims.drafts")

    log.info("claim for %s submitted", PHONE)
    try:
        {}["missing"]
    except KeyError:
        log.exception("could not read %s", EMAIL)

    err = capsys.readouterr().err
    assert len(err.splitlines()) == 2  # the traceback stays inside its line's JSON
    first, second = _lines(err)
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "INFO" and first["logger"] == "server.claims.drafts"
    assert first["message"] == "claim for 136****1560 submitted"
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and second["message"] == "could not read z***@example.com"
    assert (
        second["exception"].startswith("Traceback") and "KeyError: 'missing'" in second["exception"]
    )
    assert PHONE not in err and "zhang.san" not in err


def test_development_writes_readable_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(environment="development"))

    logging.getLogger("server.notify.sms").info("sms to %s sent", PHONE)

    line = capsys.readouterr().err.strip()
    assert not line.startswith("{")
    assert line.endswith("INFO    server.notify.sms: sms to 136****1560 sent")


def test_the_level_comes_from_log_level(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(from_env({"LOG_LEVEL": "warning"}))
    log = logging.getLogger("server.wechat")

    log.info("not shown")
    log.warning("shown")

    err = capsys.readouterr().err
    assert "shown" in err and "not shown" not in err


def test_an_unknown_log_level_is_refused() -> None:
    with pytest.raises(ValueError, match="LOG_LEVEL: must be one of"):
        configure_logging(Settings(log_level="LOUD"))


def test_configuring_again_replaces_only_its_own_handler() -> None:
    other = logging.NullHandler()
    logging.getLogger().addHandler(other)

    first = configure_logging(Settings())
    second = configure_logging(Settings())

    handlers = logging.getLogger().handlers
    assert second in handlers and first not in handlers and other in handlers


def test_create_app_configures_logging(services: Services) -> None:
    settings = Settings(
        environment="production", secret_key="x" * 32, encryption_key="y" * 32, log_level="ERROR"
    )

    create_app(settings, services=services)

    root = logging.getLogger()
    assert root.level == logging.ERROR
    assert any(isinstance(f, ScrubFilter) for h in root.handlers for f in h.filters)


# --- uvicorn's access log ----------------------------------------------------------------------


@contextlib.contextmanager
def _served(factory: Any, port: int) -> Iterator[None]:
    """`factory` served as `uvicorn --factory` serves it: uvicorn configures its logging first."""
    config = uvicorn.Config(
        factory, factory=True, host="127.0.0.1", port=port, lifespan="off", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.timeout(60)
def test_the_access_log_goes_through_the_same_scrubbed_configuration(
    services: Services, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(environment="production", secret_key="x" * 32, encryption_key="y" * 32)

    def factory() -> Starlette:
        return create_app(settings, services=services)

    port = free_port()
    paths = [
        "/h5/supplement/s3cr3t-t0ken?lang=en",
        "/claim-files/doc.7.member.3.1767225600.abcdef123",
        "/certificates/12.3.1767225600.abcdef123.pdf",
        "/healthz?token=s3cr3t-t0ken&sig=abcdef123",
        "/h5/supplement/claim",
    ]
    with _served(factory, port):
        for path in paths:
            # a 404 is logged all the same
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).close()

    err = capfd.readouterr().err
    access = [e["message"] for e in _lines(err) if e["logger"] == "uvicorn.access"]
    assert any('"GET /h5/supplement/***?lang=en HTTP/1.1"' in m for m in access), err
    assert any('"GET /claim-files/*** HTTP/1.1"' in m for m in access), err
    assert any('"GET /certificates/***.pdf HTTP/1.1"' in m for m in access), err
    assert any('"GET /healthz?token=***&sig=*** HTTP/1.1" 200' in m for m in access), err
    assert any('"GET /h5/supplement/claim HTTP/1.1"' in m for m in access), err
    assert not any(secret in err for secret in SECRETS)


@pytest.mark.timeout(60)
def test_the_access_log_keeps_no_position_of_a_directory_visitor(
    services: Services, capfd: pytest.CaptureFixture[str]
) -> None:
    # given: a visitor sorting by distance from a shared position, then from a typed place
    settings = Settings(environment="production", secret_key="x" * 32, encryption_key="y" * 32)

    def factory() -> Starlette:
        return create_app(settings, services=services)

    port = free_port()
    paths = [
        "/h5/en/medical?q=renji&lat=31.232&lng=121.473&sort=distance",
        "/h5/zh/dental?place=%E5%B1%B1%E4%B8%9C%E4%B8%AD%E8%B7%AF&district=%E9%BB%84%E6%B5%A6%E5%8C%BA",
    ]
    # when
    with _served(factory, port):
        for path in paths:
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).close()
    # then: the searches are logged, the position is not
    err = capfd.readouterr().err
    access = [e["message"] for e in _lines(err) if e["logger"] == "uvicorn.access"]
    assert any("/h5/en/medical?q=renji&lat=***&lng=***&sort=distance" in m for m in access), err
    assert any("/h5/zh/dental?place=***&district=" in m for m in access), err
    for secret in ("31.232", "121.473", "%E5%B1%B1%E4%B8%9C"):
        assert secret not in err

"""Sending SMS: a development sender that keeps an outbox, and an HTTP gateway sender."""

from __future__ import annotations

import functools
import http.client
import json
import logging
import re
import urllib.parse
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.orm import Session

from server.accounts.errors import SmsDeliveryFailed
from server.crypto import Vault, mask_phone
from server.db import utcnow
from server.notify.deadline import deadline

log = logging.getLogger(__name__)


def _mask_codes(text: str) -> str:
    return re.sub(r"\d{4,}", lambda m: "*" * len(m.group()), text)


_OUTBOX_COLUMNS = ("phone_hash", "phone_enc", "body", "created_at")


class SmsSender(Protocol):
    def send(self, db: Session, phone: str, text: str) -> None: ...


class OutboxSender:
    """Development and tests: the message lands in the sms_outbox table, never on a phone."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def send(self, db: Session, phone: str, text: str) -> None:
        db.execute(self.statement(), self.row(phone, text))
        self.logged(phone, text)

    @staticmethod
    @functools.cache
    def statement() -> Any:
        """The outbox row's INSERT (built once), its values bound by the names `row` gives
        (a caller may write it as a CTE of its own statement, then call `logged`)."""
        from server.accounts.models import SmsOutbox

        c = SmsOutbox.__table__.c
        return insert(cast(Table, SmsOutbox.__table__)).values(
            {n: bindparam(f"sms_{n}", type_=c[n].type) for n in _OUTBOX_COLUMNS}
        )

    def row(self, phone: str, text: str) -> dict[str, Any]:
        return {
            "sms_phone_hash": self.vault.lookup(phone, kind="phone"),
            "sms_phone_enc": self.vault.encrypt(phone),
            "sms_body": text,
            "sms_created_at": utcnow(),
        }

    def logged(self, phone: str, text: str) -> None:
        # the log gets neither the number nor the code: both would let a reader sign in
        log.info("sms to %s: %s", mask_phone(phone), _mask_codes(text))


class HttpSender:
    """A gateway that takes a JSON POST {"phone": ..., "text": ...} and answers 2xx.

    `connect_timeout` bounds the connection; `timeout` the whole exchange, however slowly
    the gateway answers.
    """

    def __init__(self, url: str, *, timeout: float = 5.0, connect_timeout: float = 3.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the SMS gateway needs an http:// or https:// URL")
        self.url = url
        self.timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)
        self._parts = parts

    def send(self, db: Session, phone: str, text: str) -> None:
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        try:
            status = self._post(body)
        except (OSError, http.client.HTTPException) as e:
            log.warning("sms gateway failed for %s: %s", mask_phone(phone), type(e).__name__)
            raise SmsDeliveryFailed("The SMS could not be sent; try again later.") from None
        if not 200 <= status < 300:
            log.warning("sms gateway answered %d for %s", status, mask_phone(phone))
            raise SmsDeliveryFailed("The SMS gateway refused the message; try again later.")
        log.info("sms to %s sent through the gateway", mask_phone(phone))

    def _post(self, body: bytes) -> int:
        p = self._parts
        connection = (
            http.client.HTTPSConnection if p.scheme == "https" else http.client.HTTPConnection
        )
        conn = connection(p.hostname or "", p.port, timeout=self.connect_timeout)
        path = (p.path or "/") + (f"?{p.query}" if p.query else "")
        try:
            with deadline(self.timeout, lambda: conn.sock) as expired:
                try:
                    conn.connect()
                    if conn.sock is not None:
                        conn.sock.settimeout(self.timeout)
                    conn.request("POST", path, body, {"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    resp.read(64 * 1024)
                    return resp.status
                except (OSError, http.client.HTTPException):
                    if expired.is_set():
                        raise TimeoutError("the gateway took too long") from None
                    raise
        finally:
            conn.close()


def make_sender(
    gateway_url: str, vault: Vault, *, timeout: float = 5.0, connect_timeout: float = 3.0
) -> SmsSender:
    if not gateway_url:
        return OutboxSender(vault)
    return HttpSender(gateway_url, timeout=timeout, connect_timeout=connect_timeout)

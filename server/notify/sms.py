"""Sending SMS: a development sender that keeps an outbox, and an HTTP gateway sender."""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from typing import Protocol

from sqlalchemy.orm import Session

from server.accounts.errors import SmsDeliveryFailed
from server.crypto import Vault, mask_phone

log = logging.getLogger(__name__)


def _mask_codes(text: str) -> str:
    return re.sub(r"\d{4,}", lambda m: "*" * len(m.group()), text)


class SmsSender(Protocol):
    def send(self, db: Session, phone: str, text: str) -> None: ...


class OutboxSender:
    """Development and tests: the message lands in the sms_outbox table, never on a phone."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def send(self, db: Session, phone: str, text: str) -> None:
        from server.accounts.models import SmsOutbox

        db.add(
            SmsOutbox(
                phone_hash=self.vault.lookup(phone, kind="phone"),
                phone_enc=self.vault.encrypt(phone),
                body=text,
            )
        )
        db.flush()
        # the log gets neither the number nor the code: both would let a reader sign in
        log.info("sms to %s: %s", mask_phone(phone), _mask_codes(text))


class HttpSender:
    """A gateway that takes a JSON POST {"phone": ..., "text": ...} and answers 2xx."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, db: Session, phone: str, text: str) -> None:
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        req = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                if not 200 <= resp.status < 300:
                    raise SmsDeliveryFailed("The SMS gateway refused the message; try again later.")
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            log.warning("sms gateway failed for %s: %s", mask_phone(phone), type(e).__name__)
            raise SmsDeliveryFailed("The SMS could not be sent; try again later.") from None
        log.info("sms to %s sent through the gateway", mask_phone(phone))


def make_sender(gateway_url: str, vault: Vault) -> SmsSender:
    return HttpSender(gateway_url) if gateway_url else OutboxSender(vault)

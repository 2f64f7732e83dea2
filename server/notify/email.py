"""Sending e-mail: over SMTP in production, to the log (address masked) in development."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

from server.crypto import mask_email
from server.errors import DomainError
from server.notify.deadline import deadline

log = logging.getLogger(__name__)


class EmailDeliveryFailed(DomainError):
    """The mail server could not be reached or refused for now: worth trying again."""

    code = "EMAIL_DELIVERY_FAILED"


class EmailRejected(EmailDeliveryFailed):
    """The server refused the address itself: trying again will not help."""

    code = "EMAIL_REJECTED"


class EmailSender(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


def build_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message; non-ASCII headers are RFC 2047 encoded by the policy."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(body, charset="utf-8")
    return msg


class SmtpEmailSender:
    """Plain SMTP, optionally upgraded with STARTTLS and signed in with a user and password."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not sender:
            raise ValueError("an SMTP sender address (SMTP_FROM) is required")
        self.host = host
        self.port = port
        self.sender = sender
        self.user = user
        self.password = password
        self.starttls = starttls
        self.timeout = timeout  # the whole delivery, greeting to QUIT
        self.connect_timeout = min(connect_timeout, timeout)  # the connection and greeting
        self.ssl_context = ssl_context

    def send(self, to: str, subject: str, body: str) -> None:
        msg = build_message(self.sender, to, subject, body)
        watched: list[smtplib.SMTP] = []
        try:
            with deadline(self.timeout, lambda: watched[0].sock if watched else None) as expired:
                try:
                    self._deliver(watched, msg)
                except (smtplib.SMTPException, OSError):
                    if expired.is_set():
                        raise TimeoutError("the delivery took too long") from None
                    raise
                finally:
                    for smtp in watched:
                        smtp.close()
        except smtplib.SMTPRecipientsRefused:
            log.warning("mail server refused the address %s", mask_email(to))
            raise EmailRejected("The mail server refused the address.") from None
        except (smtplib.SMTPException, OSError) as e:
            # the exception text may repeat the address: only its class goes to the log
            log.warning("mail to %s failed: %s", mask_email(to), type(e).__name__)
            raise EmailDeliveryFailed(
                f"The e-mail could not be sent ({type(e).__name__}); it will be retried."
            ) from None
        log.info("mail to %s sent", mask_email(to))

    def _deliver(self, watched: list[smtplib.SMTP], msg: EmailMessage) -> None:
        # the connection and the greeting are bounded by the connect timeout
        smtp = _WatchedSMTP(watched, self.host, self.port, timeout=self.connect_timeout)
        if smtp.sock is not None:
            smtp.sock.settimeout(self.timeout)
        if self.starttls:
            smtp.starttls(context=self.ssl_context or ssl.create_default_context())
        if self.user:
            smtp.login(self.user, self.password)
        smtp.send_message(msg)
        # the message is accepted: a QUIT that fails must not make it count as unsent
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()


class _WatchedSMTP(smtplib.SMTP):
    """Hands its socket to the delivery's deadline as soon as it is connected, so that a
    greeting that never ends is cut off too (smtplib connects inside its constructor)."""

    def __init__(self, watched: list[smtplib.SMTP], host: str, port: int, timeout: float) -> None:
        self._watched = watched
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        self.sock = sock
        self._watched.append(self)
        return sock


class LogEmailSender:
    """Development: the message goes to the log; the address is masked and the text left out."""

    def send(self, to: str, subject: str, body: str) -> None:
        # the text greets the person by name, so only its length is logged
        log.info("mail to %s: %s (%d characters)", mask_email(to), subject, len(body))


def make_email_sender(
    host: str,
    port: int,
    sender: str,
    *,
    user: str = "",
    password: str = "",
    starttls: bool = False,
    timeout: float = 30.0,
    connect_timeout: float = 5.0,
) -> EmailSender:
    if not host:
        return LogEmailSender()
    return SmtpEmailSender(
        host,
        port,
        sender,
        user=user,
        password=password,
        starttls=starttls,
        timeout=timeout,
        connect_timeout=connect_timeout,
    )

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server.notify.email import (
    EmailDeliveryFailed,
    LogEmailSender,
    SmtpEmailSender,
    make_email_sender,
)
from server.settings import from_env
from tests.server.notify.conftest import SmtpServer, free_port


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_starttls_and_login(smtp_server: SmtpServer, tmp_path: Path) -> None:
    # given a server that requires STARTTLS and a login
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.login == b"mailer" and data.password == b"s3cret")

    smtp_server.start(
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    sender = SmtpEmailSender(
        smtp_server.host,
        smtp_server.port,
        "claims@insurer.example",
        user="mailer",
        password="s3cret",
        starttls=True,
        ssl_context=ssl.create_default_context(cafile=str(cert)),
        timeout=5,
    )
    # when a Chinese message is sent
    sender.send("chen@example.com", "补充材料通知", "您好，请补充材料。")
    # then it arrived after the upgrade and the login
    assert logins == [(b"mailer", b"s3cret")]
    [(rcpt, msg)] = smtp_server.mailbox.messages
    assert rcpt == ["chen@example.com"] and msg["Subject"] == "补充材料通知"
    assert msg.get_content().strip() == "您好，请补充材料。"
    # and a wrong password is a delivery failure, not a crash
    bad = SmtpEmailSender(
        smtp_server.host,
        smtp_server.port,
        "claims@insurer.example",
        user="mailer",
        password="wrong",
        starttls=True,
        ssl_context=ssl.create_default_context(cafile=str(cert)),
        timeout=1,
    )
    with pytest.raises(EmailDeliveryFailed):
        bad.send("chen@example.com", "x", "y")


def test_unreachable_server_is_a_typed_failure_and_logs_no_address(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = SmtpEmailSender("127.0.0.1", free_port(), "claims@insurer.example", timeout=2)
    with caplog.at_level(logging.INFO), pytest.raises(EmailDeliveryFailed) as e:
        sender.send("zhao.liu@example.com", "主题", "尊敬的赵六")
    assert e.value.code == "EMAIL_DELIVERY_FAILED"
    assert "zhao.liu" not in caplog.text and "z***@example.com" in caplog.text
    assert "zhao.liu" not in e.value.message


def test_development_sender_logs_the_address_masked_and_no_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        LogEmailSender().send("wang.wu@example.com", "理赔补充材料通知", "尊敬的王五先生/女士")
    assert "w***@example.com" in caplog.text and "理赔补充材料通知" in caplog.text
    assert "wang.wu" not in caplog.text and "王五" not in caplog.text


def test_settings_choose_the_sender() -> None:
    settings = from_env(
        {
            "SMTP_HOST": "mail.internal",
            "SMTP_PORT": "587",
            "SMTP_FROM": "理赔服务 <claims@insurer.example>",
            "SMTP_USER": "mailer",
            "SMTP_PASSWORD": "pw",
            "SMTP_STARTTLS": "true",
        }
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == (
        "mail.internal",
        587,
        True,
    )
    sender = make_email_sender(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )
    assert isinstance(sender, SmtpEmailSender) and sender.starttls and sender.user == "mailer"
    assert isinstance(make_email_sender("", 25, ""), LogEmailSender)
    with pytest.raises(ValueError):
        SmtpEmailSender("mail.internal", 25, "")

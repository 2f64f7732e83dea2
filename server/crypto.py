"""Personal data at rest: encryption, keyed look-up hashes, and masking for display."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


class Vault:
    """Encrypts personal data (Fernet: AES-128-CBC + HMAC) and hashes it for exact look-ups.

    Ciphertexts are randomised, so equality searches go through `lookup`, a keyed
    HMAC: without the key a leaked table cannot be brute-forced over the small
    space of phone numbers or ID numbers.
    """

    def __init__(self, key_material: str) -> None:
        if not key_material:
            raise ValueError("an encryption key is required")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(key_material, b"encrypt")))
        self._hash_key = _derive(key_material, b"lookup")

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as e:  # a wrong key must not pass silently
            raise ValueError("cannot decrypt: wrong key or damaged value") from e

    def lookup(self, plain: str, *, kind: str) -> str:
        # the kind keeps a phone number and an equal ID number from sharing a hash
        return hmac.new(self._hash_key, f"{kind}:{plain}".encode(), hashlib.sha256).hexdigest()


def vault_for(secret_key: str, encryption_key: str = "") -> Vault:
    return Vault(encryption_key or secret_key)


def token_hash(token: str) -> str:
    """Hash of a random secret (session token, SMS code with its salt): plain SHA-256 suffices."""
    return hashlib.sha256(token.encode()).hexdigest()


def mask_id(number: str) -> str:
    """1305**********151X; shorter documents (passports, permits) keep only 1 + 3 characters."""
    n = number.strip()
    if len(n) >= 15:
        return n[:4] + "*" * (len(n) - 8) + n[-4:]
    if len(n) >= 6:
        return n[:1] + "*" * (len(n) - 4) + n[-3:]
    return "*" * len(n)


def mask_phone(phone: str) -> str:
    """136****1560."""
    p = phone.strip()
    if len(p) < 7:
        return "*" * len(p)
    return p[:3] + "*" * (len(p) - 7) + p[-4:]


def mask_name(name: str) -> str:
    """张*, 王*明, J*** S****: only the first character of a Chinese name stays (and the last of 3+)."""
    n = name.strip()
    if not n:
        return n
    if n.isascii():
        return " ".join(w[:1] + "*" * (len(w) - 1) for w in n.split())
    if len(n) <= 2:
        return n[0] + "*"
    return n[0] + "*" * (len(n) - 2) + n[-1]


def mask_account(account: str) -> str:
    """Bank account: **** **** **** 1234 style, only the last 4 digits stay."""
    a = "".join(account.split())
    if len(a) <= 4:
        return "*" * len(a)
    return "*" * (len(a) - 4) + a[-4:]


def mask_email(address: str) -> str:
    """z***@example.com: the first character of the mailbox and the domain stay."""
    local, sep, domain = address.strip().rpartition("@")
    if not sep:
        return "*" * len(address.strip())
    return (local[:1] + "***" if local else "***") + "@" + domain

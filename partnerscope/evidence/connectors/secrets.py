"""Tracker tokens, encrypted at rest (Fernet: AES-128-CBC with an HMAC-SHA256 tag).

The key comes from PARTNERSCOPE_TOKEN_KEYS (Fernet keys, newest first, so a key can be
rotated), or is derived from the secret key. A token is never shown again after it is saved:
pages show only a hint of its last characters.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class TokenUnavailable(Exception):
    pass


def _fernet() -> MultiFernet:
    keys = list(settings.TOKEN_KEYS)
    if not keys:
        digest = hashlib.sha256(b"partnerscope tracker tokens\0" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_token(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def decrypt_token(stored: str) -> str:
    if not stored:
        raise TokenUnavailable("No token is set for this connection; edit it to add one.")
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise TokenUnavailable(
            "The stored token can no longer be read (the encryption key changed); edit the connection "
            "and enter the token again."
        ) from None


def token_hint(token: str) -> str:
    return "…" + token[-4:] if len(token) >= 12 else "set"

"""Password hashing (argon2id), JWT access tokens (HS256 only) and secret encryption.

Access tokens are short-lived and stateless; refresh tokens are opaque random strings whose
SHA-256 is stored (see auth.service), so a database leak does not hand out sessions.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
JWT_ALGORITHM = "HS256"
# A fixed hash to verify against when the account does not exist, so timing does not
# reveal which emails are registered.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password(length: int = 20) -> str:
    """A random password that is easy to copy (no ambiguous punctuation)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    role: str
    expires_at: int


def issue_access_token(secret: str, user_id: int, role: str, ttl_seconds: int) -> str:
    now = int(time.time())
    payload = {
        "sub": str(user_id),
        "role": role,
        "type": "access",
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def decode_access_token(secret: str, token: str) -> AccessClaims | None:
    """None for any token we did not sign as an HS256 access token that is still valid."""
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    if payload.get("type") != "access":
        return None
    try:
        return AccessClaims(int(payload["sub"]), str(payload.get("role", "")), int(payload["exp"]))
    except (TypeError, ValueError):
        return None


class SecretBox:
    """Encrypts secrets at rest with a key derived from ERP_CORE_SECRET_KEY (Fernet: AES + HMAC).

    Several keys may be given: the first encrypts, all decrypt, which is what key rotation
    needs while re-encrypting.
    """

    def __init__(self, *keys: str) -> None:
        if not keys:
            raise ValueError("at least one key is required")
        self._fernets = [Fernet(self._derive(k)) for k in keys]

    @staticmethod
    def _derive(key: str) -> bytes:
        return base64.urlsafe_b64encode(hashlib.sha256(("erp-core:" + key).encode()).digest())

    def encrypt(self, plaintext: str) -> str:
        return self._fernets[0].encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        for fernet in self._fernets:
            try:
                return fernet.decrypt(token.encode()).decode()
            except InvalidToken:
                continue
        raise ValueError("secret cannot be decrypted with the configured keys")


def mask_secret(value: str | None) -> str | None:
    """`••••1234`: enough for an operator to recognise a value, never enough to use it."""
    if not value:
        return None
    return "••••" + value[-4:] if len(value) >= 8 else "••••"

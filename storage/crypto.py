"""Field encryption, key wrapping, blind indexes and audit-chain MACs.

Modelled on pyca/cryptography's fernet.py: a few functions and one error type.

Token layout: format byte 0x01 | key version (4 bytes, big-endian) | 12-byte nonce |
AES-256-GCM ciphertext and tag. The associated data binds the header to the
table, column, row and owner (case) the value belongs to, so a token copied
anywhere else fails to decrypt.

Text is encoded as UTF-8 with "surrogatepass": a lone surrogate (which JSON from a
chat platform can carry) round-trips instead of losing the message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = 0x01
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
_HEADER = struct.Struct(">BI")
_MIN_TOKEN = _HEADER.size + NONCE_SIZE + TAG_SIZE
_MAX_VERSION = 2**32 - 1
_TEXT_ENCODING = "surrogatepass"


class CryptoError(Exception):
    """Every failure: bad tag, wrong key or AAD, unknown version, bad format.

    Messages never contain key material or plaintext.
    """


class KekSource(Protocol):
    """Anything that can look up a key-encryption key by version (a KeyRing, later a KMS)."""

    @property
    def current_version(self) -> int: ...

    def kek(self, version: int) -> bytes: ...


@dataclass(frozen=True)
class Aad:
    table: str
    column: str
    row_id: str
    owner_id: str


def new_data_key() -> bytes:
    return os.urandom(KEY_SIZE)


def encrypt(plaintext: str, *, key: bytes, key_version: int, aad: Aad) -> bytes:
    return encrypt_bytes(_encode(plaintext), key=key, key_version=key_version, aad=aad)


def decrypt(token: bytes, *, key: bytes, aad: Aad) -> str:
    try:
        return decrypt_bytes(token, key=key, aad=aad).decode("utf-8", _TEXT_ENCODING)
    except UnicodeDecodeError:
        raise CryptoError("decrypted value is not valid UTF-8") from None


def encrypt_bytes(plaintext: bytes, *, key: bytes, key_version: int, aad: Aad) -> bytes:
    header = _header(key_version)
    nonce = os.urandom(NONCE_SIZE)
    sealed = _aesgcm(key).encrypt(nonce, plaintext, _aad_bytes(header, aad))
    return header + nonce + sealed


def decrypt_bytes(token: bytes, *, key: bytes, aad: Aad) -> bytes:
    key_version_of(token)  # validates length and format byte
    header = token[: _HEADER.size]
    nonce = token[_HEADER.size : _HEADER.size + NONCE_SIZE]
    sealed = token[_HEADER.size + NONCE_SIZE :]
    try:
        return _aesgcm(key).decrypt(nonce, sealed, _aad_bytes(header, aad))
    except InvalidTag:
        raise CryptoError("ciphertext failed authentication") from None


def key_version_of(token: bytes) -> int:
    if not isinstance(token, bytes | bytearray | memoryview) or len(token) < _MIN_TOKEN:
        raise CryptoError("ciphertext is truncated or not bytes")
    fmt, version = _HEADER.unpack_from(token)
    if fmt != FORMAT:
        raise CryptoError(f"unknown ciphertext format {fmt:#04x}")
    return int(version)


def wrap_key(dek: bytes, *, kek: bytes, kek_version: int, owner_id: str) -> bytes:
    _check_key(dek, "data key")
    return encrypt_bytes(dek, key=kek, key_version=kek_version, aad=_wrap_aad(owner_id))


def unwrap_key(wrapped: bytes, *, keyring: KekSource, owner_id: str) -> bytes:
    kek = keyring.kek(key_version_of(wrapped))
    dek = decrypt_bytes(wrapped, key=kek, aad=_wrap_aad(owner_id))
    _check_key(dek, "data key")
    return dek


def rewrap_key(wrapped: bytes, *, keyring: KekSource, owner_id: str) -> bytes:
    """Rotation: rewrap a data key under the keyring's current KEK; messages stay as they are."""
    dek = unwrap_key(wrapped, keyring=keyring, owner_id=owner_id)
    version = keyring.current_version
    return wrap_key(dek, kek=keyring.kek(version), kek_version=version, owner_id=owner_id)


def blind_index(value: str, *, key: bytes, namespace: str) -> str:
    _check_key(key, "blind-index key")
    if "\0" in namespace:
        raise CryptoError("blind-index namespace must not contain NUL")
    message = _encode(namespace) + b"\0" + _encode(value)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def chain_mac(previous: str, payload: Mapping[str, str | int | None], *, key: bytes) -> str:
    """HMAC of the previous link and the canonical JSON of this audit event."""
    _check_key(key, "audit key")
    try:
        canonical = json.dumps(dict(payload), sort_keys=True, separators=(",", ":"))
        message = previous.encode("ascii") + b"\0" + canonical.encode("ascii")
    except (TypeError, ValueError):
        raise CryptoError("audit payload or previous hash cannot be canonicalised") from None
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _header(key_version: int) -> bytes:
    if isinstance(key_version, bool) or not 0 <= key_version <= _MAX_VERSION:
        raise CryptoError("key version must fit in 4 unsigned bytes")
    return _HEADER.pack(FORMAT, key_version)


def _aad_bytes(header: bytes, aad: Aad) -> bytes:
    fields = (aad.table, aad.column, aad.row_id, aad.owner_id)
    encoded = [_encode(field, strict=True) for field in fields]
    return header + b"".join(struct.pack(">I", len(part)) + part for part in encoded)


def _wrap_aad(owner_id: str) -> Aad:
    return Aad(table="data_keys", column="wrapped", row_id=owner_id, owner_id=owner_id)


def _aesgcm(key: bytes) -> AESGCM:
    _check_key(key, "encryption key")
    return AESGCM(key)


def _check_key(key: bytes, what: str) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise CryptoError(f"{what} must be {KEY_SIZE} bytes")


def _encode(text: str, *, strict: bool = False) -> bytes:
    if not isinstance(text, str):
        raise CryptoError("expected text")
    try:
        return text.encode("utf-8", "strict" if strict else _TEXT_ENCODING)
    except UnicodeEncodeError:
        raise CryptoError("identifier is not valid Unicode") from None

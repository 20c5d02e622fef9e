"""The key provider: versioned KEKs plus the blind-index and audit keys, kept outside the DB.

Two sources, checked in this order:
- SAPA_MASTER_KEY (passed in as ``master_key``): base64 of either the key-file JSON
  document, or a single 32-byte secret from which KEK v1, the blind-index key and the
  audit key are derived with HKDF-SHA256. A derived keyring cannot be rotated:
  rotation (``sapa keys rotate``) needs the key-file form, whose JSON can then be
  base64-encoded into SAPA_MASTER_KEY if the environment is preferred.
- The key file (JSON, mode 0600), created on first start when missing.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.crypto import KEY_SIZE, CryptoError

FILE_FORMAT = 1
log = logging.getLogger("sapa.keys")


class KeyFileError(Exception):
    """A key source the operator must fix; the message is one sentence for the CLI."""


@dataclass(frozen=True, repr=False)
class KeyRing:
    keks: Mapping[int, bytes]
    current_version: int
    blind_index_key: bytes
    audit_key: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "keks", MappingProxyType(dict(self.keks)))
        keys = [*self.keks.values(), self.blind_index_key, self.audit_key]
        if any(not isinstance(key, bytes) or len(key) != KEY_SIZE for key in keys):
            raise CryptoError(f"every key must be {KEY_SIZE} bytes")
        if self.current_version not in self.keks:
            raise CryptoError("the current KEK version is not in the keyring")

    @property
    def current_kek(self) -> bytes:
        return self.keks[self.current_version]

    def kek(self, version: int) -> bytes:
        try:
            return self.keks[version]
        except KeyError:
            raise CryptoError(f"unknown key version {version}") from None

    def with_new_version(self) -> KeyRing:
        version = max(self.keks) + 1
        keks = {**self.keks, version: secrets.token_bytes(KEY_SIZE)}
        return KeyRing(keks, version, self.blind_index_key, self.audit_key)

    def __repr__(self) -> str:
        versions = sorted(self.keks)
        return f"KeyRing(versions={versions}, current_version={self.current_version}, keys=***)"


def generate_keyring() -> KeyRing:
    return KeyRing({1: _random()}, 1, _random(), _random())


def load_keyring(*, master_key: str | None, key_file: Path, create: bool = True) -> KeyRing:
    if master_key is not None:
        return _from_master_key(master_key)
    if key_file.exists():
        return _read_key_file(key_file)
    if not create:
        raise KeyFileError(f"Key file {key_file} does not exist and creating it is disabled.")
    return _create_key_file(key_file)


def save_keyring(keyring: KeyRing, key_file: Path) -> None:
    tmp = _write_private_tmp(key_file, _to_document(keyring))
    try:
        os.replace(tmp, key_file)
        _fsync_dir(key_file.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise KeyFileError(f"Cannot replace key file {key_file}: {exc.strerror}.") from None


def _from_master_key(master_key: str) -> KeyRing:
    raw = _b64decode(master_key.strip(), "SAPA_MASTER_KEY")
    if len(raw) == KEY_SIZE:
        return _derive(raw)
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeyFileError(
            "SAPA_MASTER_KEY must be base64 of a 32-byte secret or of a key-file JSON document."
        ) from None
    return _from_document(document, "SAPA_MASTER_KEY")


def _derive(secret: bytes) -> KeyRing:
    def hkdf(info: str) -> bytes:
        kdf = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None, info=info.encode())
        return kdf.derive(secret)

    return KeyRing({1: hkdf("sapa-kek-v1")}, 1, hkdf("sapa-blind-index"), hkdf("sapa-audit"))


def _read_key_file(path: Path) -> KeyRing:
    try:
        mode = path.stat().st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(
                f"Key file {path} is accessible to group or others "
                f"(mode {stat.S_IMODE(mode):o}); run 'chmod 600 {path}' and start again."
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise KeyFileError(f"Cannot read key file {path}: {reason}.") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise KeyFileError(f"Key file {path} is not valid JSON.") from None
    return _from_document(document, f"Key file {path}")


def _create_key_file(path: Path) -> KeyRing:
    keyring = generate_keyring()
    tmp = _write_private_tmp(path, _to_document(keyring))
    try:
        os.link(tmp, path)  # unlike rename, never clobbers a file another process just made
        _fsync_dir(path.parent)
    except FileExistsError:
        return _read_key_file(path)
    except OSError as exc:
        raise KeyFileError(f"Cannot create key file {path}: {exc.strerror}.") from None
    finally:
        tmp.unlink(missing_ok=True)
    log.warning(
        "Created a NEW key file at %s. Losing it loses every transcript: "
        "back it up now, separately from the database.",
        path,
    )
    return keyring


def _write_private_tmp(path: Path, document: dict[str, Any]) -> Path:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise KeyFileError(f"Cannot write key file {path}: {exc.strerror}.") from None
    return tmp


def _to_document(keyring: KeyRing) -> dict[str, Any]:
    return {
        "format": FILE_FORMAT,
        "current": keyring.current_version,
        "keks": {str(v): _b64encode(k) for v, k in sorted(keyring.keks.items())},
        "blind_index": _b64encode(keyring.blind_index_key),
        "audit": _b64encode(keyring.audit_key),
    }


def _from_document(document: Any, source: str) -> KeyRing:
    bad = KeyFileError(
        f"{source} must be a format-1 document with 'current', 'keks', "
        f"'blind_index' and 'audit' keys of {KEY_SIZE} bytes each."
    )
    try:
        current = document["current"]
        if document.get("format") != FILE_FORMAT or type(current) is not int:
            raise bad
        keks = {int(v): _b64decode(k, source) for v, k in document["keks"].items()}
        blind, audit = (_b64decode(document[name], source) for name in ("blind_index", "audit"))
        return KeyRing(keks, current, blind, audit)
    except (AttributeError, KeyError, TypeError, ValueError, CryptoError):
        raise bad from None


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _b64decode(text: str, source: str) -> bytes:
    """Accept standard or URL-safe base64, with or without padding."""
    if not isinstance(text, str):
        raise KeyFileError(f"{source} contains a key that is not a base64 string.")
    normalised = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(normalised + "=" * (-len(normalised) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{source} is not valid base64.") from None


def _fsync_dir(directory: Path) -> None:
    """Make the new directory entry durable: a lost key file loses every transcript."""
    if os.name == "posix":
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _random() -> bytes:
    return secrets.token_bytes(KEY_SIZE)


class ReloadingKeyRing:
    """The key file's keyring, reread when the file changes.

    `sapa keys rotate` runs in another process while the service keeps running: the
    service then meets data keys wrapped by a KEK version it has not loaded yet.
    """

    def __init__(self, path: Path, keyring: KeyRing) -> None:
        self._path = path
        self._ring = keyring
        self._stamp = self._mtime()

    def _mtime(self) -> int:
        try:
            return self._path.stat().st_mtime_ns
        except OSError:
            return -1

    @property
    def ring(self) -> KeyRing:
        stamp = self._mtime()
        if stamp != self._stamp and stamp != -1:
            self._ring, self._stamp = _read_key_file(self._path), stamp
        return self._ring

    @property
    def keks(self) -> Mapping[int, bytes]:
        return self.ring.keks

    @property
    def current_version(self) -> int:
        return self.ring.current_version

    def kek(self, version: int) -> bytes:
        return self.ring.kek(version)

    @property
    def blind_index_key(self) -> bytes:
        return self._ring.blind_index_key

    @property
    def audit_key(self) -> bytes:
        return self._ring.audit_key

    def with_new_version(self) -> KeyRing:
        return self.ring.with_new_version()

    def __repr__(self) -> str:
        return f"ReloadingKeyRing({self._path}, {self._ring!r})"

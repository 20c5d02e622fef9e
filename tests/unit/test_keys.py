import base64
import json
import logging
import stat
from pathlib import Path

import pytest

from storage.crypto import CryptoError
from storage.keys import KeyFileError, KeyRing, generate_keyring, load_keyring, save_keyring


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "secrets" / "keys.json"


def test_missing_key_file_is_created_private_with_a_loud_warning(
    key_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sapa.keys"):
        ring = load_keyring(master_key=None, key_file=key_file)
    assert mode_of(key_file) == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == ["keys.json"]
    [record] = caplog.records
    assert str(key_file) in record.getMessage()
    assert "every transcript" in record.getMessage()
    assert "back it up" in record.getMessage()
    assert ring.current_version == 1


def test_created_key_file_reloads_identically_without_warning(
    key_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ring = load_keyring(master_key=None, key_file=key_file)
    caplog.clear()
    assert load_keyring(master_key=None, key_file=key_file) == ring
    assert caplog.records == []


def test_key_file_has_the_documented_shape(key_file: Path) -> None:
    ring = load_keyring(master_key=None, key_file=key_file).with_new_version()
    save_keyring(ring, key_file)
    document = json.loads(key_file.read_text())
    assert document["format"] == 1
    assert document["current"] == 2
    assert sorted(document["keks"]) == ["1", "2"]
    assert base64.urlsafe_b64decode(document["blind_index"]) == ring.blind_index_key


def test_missing_key_file_without_create_is_refused(key_file: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        load_keyring(master_key=None, key_file=key_file, create=False)
    assert not key_file.exists()


def test_rotation_is_saved_atomically_and_privately(key_file: Path) -> None:
    ring = load_keyring(master_key=None, key_file=key_file)
    rotated = ring.with_new_version()
    save_keyring(rotated, key_file)
    assert mode_of(key_file) == 0o600
    reloaded = load_keyring(master_key=None, key_file=key_file)
    assert reloaded == rotated
    assert reloaded.kek(1) == ring.kek(1)
    assert reloaded.current_version == 2
    assert [p.name for p in key_file.parent.iterdir()] == ["keys.json"]


@pytest.mark.parametrize("mode", [0o640, 0o644, 0o604, 0o660])
def test_key_file_readable_by_others_is_refused(key_file: Path, mode: int) -> None:
    load_keyring(master_key=None, key_file=key_file)
    key_file.chmod(mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_keyring(master_key=None, key_file=key_file)


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"format": 2, "current": 1, "keks": {}, "blind_index": "", "audit": ""}',
        json.dumps(
            {
                "format": 1,
                "current": 2,
                "keks": {"1": b64(bytes(32))},
                "blind_index": b64(bytes(32)),
                "audit": b64(bytes(32)),
            }
        ),
        json.dumps(
            {
                "format": 1,
                "current": 1,
                "keks": {"1": b64(bytes(16))},
                "blind_index": b64(bytes(32)),
                "audit": b64(bytes(32)),
            }
        ),
        json.dumps(
            {"format": 1, "current": 1, "keks": {"1": "!!"}, "blind_index": "", "audit": ""}
        ),
        "\udcff",
    ],
)
def test_corrupt_key_file_is_refused_in_one_sentence(key_file: Path, content: str) -> None:
    key_file.parent.mkdir()
    key_file.write_bytes(content.encode("utf-8", "surrogateescape"))
    key_file.chmod(0o600)
    with pytest.raises(KeyFileError) as caught:
        load_keyring(master_key=None, key_file=key_file)
    message = str(caught.value)
    assert str(key_file) in message
    assert message.endswith(".") and "\n" not in message


def test_unreadable_key_file_is_refused(key_file: Path) -> None:
    key_file.mkdir(parents=True, mode=0o700)  # a directory where the file should be
    with pytest.raises(KeyFileError, match="Cannot read"):
        load_keyring(master_key=None, key_file=key_file)


def test_single_secret_master_key_derives_stable_distinct_keys(key_file: Path) -> None:
    secret = base64.b64encode(bytes(range(32))).decode()
    ring = load_keyring(master_key=secret, key_file=key_file)
    assert ring == load_keyring(master_key=secret, key_file=key_file)
    assert ring.current_version == 1
    assert len({ring.current_kek, ring.blind_index_key, ring.audit_key}) == 3
    assert ring != load_keyring(master_key=base64.b64encode(bytes(32)).decode(), key_file=key_file)
    assert not key_file.parent.exists()


def test_document_master_key_loads_every_version(key_file: Path) -> None:
    saved = generate_keyring().with_new_version()
    save_keyring(saved, key_file)
    master = base64.urlsafe_b64encode(key_file.read_bytes()).decode().rstrip("=")
    key_file.unlink()
    assert load_keyring(master_key=master, key_file=key_file) == saved
    assert not key_file.exists()


@pytest.mark.parametrize("master", ["not base64 ☃", base64.b64encode(b"short").decode(), ""])
def test_bad_master_key_is_refused(key_file: Path, master: str) -> None:
    with pytest.raises(KeyFileError, match="SAPA_MASTER_KEY"):
        load_keyring(master_key=master, key_file=key_file)


def test_repr_shows_versions_never_key_bytes() -> None:
    ring = generate_keyring().with_new_version()
    text = repr(ring) + str(ring)
    assert "versions=[1, 2]" in text
    for key in [*ring.keks.values(), ring.blind_index_key, ring.audit_key]:
        assert key.hex() not in text and repr(key) not in text and b64(key) not in text


def test_keyring_rejects_unknown_versions_and_bad_shapes() -> None:
    ring = generate_keyring()
    with pytest.raises(CryptoError, match="unknown key version 9"):
        ring.kek(9)
    with pytest.raises(CryptoError):
        KeyRing({1: bytes(32)}, 2, bytes(32), bytes(32))
    with pytest.raises(CryptoError):
        KeyRing({1: bytes(31)}, 1, bytes(32), bytes(32))


def test_keyring_cannot_be_mutated_through_its_mapping() -> None:
    keks = {1: bytes(32)}
    ring = KeyRing(keks, 1, bytes(32), bytes(32))
    keks[2] = bytes(32)
    assert list(ring.keks) == [1]
    with pytest.raises(TypeError):
        ring.keks[3] = bytes(32)  # type: ignore[index]

import dataclasses
import hashlib
import hmac

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.crypto import (
    Aad,
    CryptoError,
    blind_index,
    chain_mac,
    decrypt,
    decrypt_bytes,
    encrypt,
    encrypt_bytes,
    key_version_of,
    new_data_key,
    rewrap_key,
    unwrap_key,
    wrap_key,
)
from storage.keys import KeyRing, generate_keyring

KEY = bytes(range(32))
AAD = Aad(table="messages", column="body", row_id="42", owner_id="case-7")


def token(text: str = "saya butuh bantuan", version: int = 3) -> bytes:
    return encrypt(text, key=KEY, key_version=version, aad=AAD)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(text=st.text(max_size=65536))
def test_any_unicode_text_round_trips(text: str) -> None:
    assert decrypt(token(text), key=KEY, aad=AAD) == text


def test_64_kib_of_multibyte_text_round_trips() -> None:
    text = "🙏 tolong " * 8000
    assert len(text) > 65536
    assert decrypt(token(text), key=KEY, aad=AAD) == text


def test_lone_surrogates_round_trip_instead_of_losing_the_message() -> None:
    text = "halo \ud83d dunia \udc00"
    assert decrypt(token(text), key=KEY, aad=AAD) == text


def test_bytes_round_trip() -> None:
    sealed = encrypt_bytes(b"\x00\xff raw", key=KEY, key_version=1, aad=AAD)
    assert decrypt_bytes(sealed, key=KEY, aad=AAD) == b"\x00\xff raw"


def test_token_layout_carries_format_byte_version_and_no_plaintext() -> None:
    sealed = token("rahasia", version=0x01020304)
    assert sealed[:5] == b"\x01\x01\x02\x03\x04"
    assert len(sealed) == 1 + 4 + 12 + len("rahasia") + 16
    assert b"rahasia" not in sealed
    assert key_version_of(sealed) == 0x01020304


def test_same_plaintext_encrypts_differently_each_time() -> None:
    assert token("sama") != token("sama")


def test_flipping_any_byte_fails() -> None:
    sealed = token("abc")
    for i in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[i] ^= 0x01
        with pytest.raises(CryptoError):
            decrypt(bytes(tampered), key=KEY, aad=AAD)


@pytest.mark.parametrize("field", ["table", "column", "row_id", "owner_id"])
def test_ciphertext_moved_elsewhere_fails(field: str) -> None:
    moved = dataclasses.replace(AAD, **{field: "other"})
    with pytest.raises(CryptoError):
        decrypt(token(), key=KEY, aad=moved)


def test_field_boundaries_are_unambiguous() -> None:
    sealed = encrypt("x", key=KEY, key_version=1, aad=Aad("ab", "c", "1", "o"))
    with pytest.raises(CryptoError):
        decrypt(sealed, key=KEY, aad=Aad("a", "bc", "1", "o"))


def test_rewriting_the_version_in_the_header_fails() -> None:
    forged = token(version=1)[:1] + (2).to_bytes(4, "big") + token(version=1)[5:]
    with pytest.raises(CryptoError):
        decrypt(forged, key=KEY, aad=AAD)


def test_wrong_key_fails() -> None:
    with pytest.raises(CryptoError):
        decrypt(token(), key=new_data_key(), aad=AAD)


@pytest.mark.parametrize("cut", [0, 1, 5, 17, 32])
def test_truncated_token_fails(cut: int) -> None:
    with pytest.raises(CryptoError):
        decrypt(token()[:cut], key=KEY, aad=AAD)


@pytest.mark.parametrize("fmt", [0x00, 0x02, 0xFF])
def test_wrong_format_byte_fails(fmt: int) -> None:
    with pytest.raises(CryptoError, match="format"):
        decrypt(bytes([fmt]) + token()[1:], key=KEY, aad=AAD)


@pytest.mark.parametrize("bad_key", [b"", b"short", bytes(16), bytes(33)])
def test_keys_that_are_not_32_bytes_are_refused(bad_key: bytes) -> None:
    with pytest.raises(CryptoError):
        encrypt("x", key=bad_key, key_version=1, aad=AAD)


@pytest.mark.parametrize("version", [-1, 2**32])
def test_versions_outside_four_bytes_are_refused(version: int) -> None:
    with pytest.raises(CryptoError):
        token(version=version)


def test_errors_never_contain_plaintext_or_key_material() -> None:
    with pytest.raises(CryptoError) as caught:
        decrypt(token("rahasia sekali"), key=new_data_key(), aad=AAD)
    message = str(caught.value)
    assert "rahasia" not in message
    assert KEY.hex() not in message


def test_new_data_keys_are_32_random_bytes() -> None:
    assert len(new_data_key()) == 32
    assert new_data_key() != new_data_key()


def test_wrapped_key_survives_rotation_and_rewraps_under_the_new_kek() -> None:
    v1 = generate_keyring()
    dek = new_data_key()
    wrapped = wrap_key(dek, kek=v1.current_kek, kek_version=1, owner_id="case-7")
    v2 = v1.with_new_version()
    assert unwrap_key(wrapped, keyring=v2, owner_id="case-7") == dek

    rewrapped = rewrap_key(wrapped, keyring=v2, owner_id="case-7")
    assert key_version_of(rewrapped) == 2
    assert unwrap_key(rewrapped, keyring=v2, owner_id="case-7") == dek

    without_v1 = KeyRing({2: v2.kek(2)}, 2, v2.blind_index_key, v2.audit_key)
    assert unwrap_key(rewrapped, keyring=without_v1, owner_id="case-7") == dek
    with pytest.raises(CryptoError, match="unknown key version"):
        unwrap_key(wrapped, keyring=without_v1, owner_id="case-7")


def test_wrapped_key_is_bound_to_its_case() -> None:
    ring = generate_keyring()
    wrapped = wrap_key(new_data_key(), kek=ring.current_kek, kek_version=1, owner_id="case-7")
    with pytest.raises(CryptoError):
        unwrap_key(wrapped, keyring=ring, owner_id="case-8")


def test_a_message_token_is_not_a_wrapped_key() -> None:
    ring = generate_keyring()
    sealed = encrypt("x", key=ring.current_kek, key_version=1, aad=AAD)
    with pytest.raises(CryptoError):
        unwrap_key(sealed, keyring=ring, owner_id="case-7")


def test_blind_index_is_deterministic_per_key_and_namespace() -> None:
    other_key = new_data_key()
    index = blind_index("123456789", key=KEY, namespace="telegram")
    assert index == blind_index("123456789", key=KEY, namespace="telegram")
    assert index != blind_index("123456789", key=KEY, namespace="staff-telegram")
    assert index != blind_index("123456789", key=other_key, namespace="telegram")
    assert index != blind_index("123456780", key=KEY, namespace="telegram")
    assert "123456789" not in index


def test_blind_index_is_hmac_sha256_of_namespace_nul_value() -> None:
    expected = hmac.new(KEY, b"whatsapp\x006281234", hashlib.sha256).hexdigest()
    assert blind_index("6281234", key=KEY, namespace="whatsapp") == expected


def test_blind_index_refuses_a_namespace_that_could_collide() -> None:
    with pytest.raises(CryptoError):
        blind_index("1", key=KEY, namespace="web\x00x")


PAYLOAD: dict[str, str | int | None] = {"actor": "staff-3", "case": "K-7F3Q", "at": 1700, "n": None}


def test_chain_mac_is_deterministic_and_ignores_key_order() -> None:
    mac = chain_mac("0" * 64, PAYLOAD, key=KEY)
    assert mac == chain_mac("0" * 64, dict(reversed(PAYLOAD.items())), key=KEY)
    assert len(mac) == 64


@pytest.mark.parametrize("field", list(PAYLOAD))
def test_chain_mac_changes_when_any_field_changes(field: str) -> None:
    edited = {**PAYLOAD, field: "edited"}
    assert chain_mac("0" * 64, edited, key=KEY) != chain_mac("0" * 64, PAYLOAD, key=KEY)


def test_chain_mac_changes_with_previous_hash_key_and_added_fields() -> None:
    mac = chain_mac("0" * 64, PAYLOAD, key=KEY)
    assert mac != chain_mac("1" + "0" * 63, PAYLOAD, key=KEY)
    assert mac != chain_mac("0" * 64, PAYLOAD, key=new_data_key())
    assert mac != chain_mac("0" * 64, {**PAYLOAD, "extra": None}, key=KEY)

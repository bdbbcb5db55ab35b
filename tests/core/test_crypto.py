"""Keyring sealing, webhook signatures (checked against independent verifiers) and API-key shapes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Callable

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.core.crypto import (
    BASE62,
    DecryptionError,
    Keyring,
    api_key_checksum,
    api_key_is_well_formed,
    encryption_context,
    generate_key,
    hash_api_key,
    new_api_key,
    new_webhook_secret,
    sign_hex,
    standard_webhook_signature,
    standard_webhook_signatures,
)

AD = encryption_context(org_id="org_1", credential_id="cred_1")


def keyring(*kids: str) -> Keyring:
    return Keyring.parse(",".join(f"{kid}:{generate_key()}" for kid in kids))


# --- keyring --------------------------------------------------------------------------------------


def test_round_trip() -> None:
    ring = keyring("k1")
    token = ring.encrypt(b'{"bot_token": "xoxb-1"}', AD)
    assert token.startswith("v1.k1.")
    assert b"xoxb" not in token.encode()
    assert ring.decrypt(token, AD) == b'{"bot_token": "xoxb-1"}'


def test_same_plaintext_seals_differently() -> None:
    ring = keyring("k1")
    assert ring.encrypt(b"x", AD) != ring.encrypt(b"x", AD)


@pytest.mark.parametrize("part", [2, 3])
def test_tampered_token_is_refused(part: int) -> None:
    ring = keyring("k1")
    parts = ring.encrypt(b"secret", AD).split(".")
    raw = bytearray(base64.urlsafe_b64decode(parts[part] + "=="))
    raw[0] ^= 1
    parts[part] = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(DecryptionError):
        ring.decrypt(".".join(parts), AD)


def test_wrong_associated_data_is_refused() -> None:
    ring = keyring("k1")
    token = ring.encrypt(b"secret", AD)
    with pytest.raises(DecryptionError):
        ring.decrypt(token, encryption_context(org_id="org_2", credential_id="cred_1"))


def test_unknown_kid_is_refused() -> None:
    token = keyring("old").encrypt(b"secret", AD)
    with pytest.raises(DecryptionError, match="old"):
        keyring("new").decrypt(token, AD)


@pytest.mark.parametrize(
    "token", ["", "v1.k1.abc", "v2.k1.AAAA.AAAA", "v1.k1.AAAAAAAAAAA.AAAA", "v1.k1.!!!.AAAA", "not a token"]
)
def test_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(DecryptionError):
        keyring("k1").decrypt(token, AD)


def test_rotation_moves_tokens_to_the_active_key() -> None:
    old_key, new_key = generate_key(), generate_key()
    before = Keyring.parse(f"old:{old_key}")
    after = Keyring.parse(f"new:{new_key},old:{old_key}")
    token = before.encrypt(b"secret", AD)

    assert after.decrypt(token, AD) == b"secret"
    assert after.needs_rotation(token)
    rotated = after.rotate(token, AD)
    assert rotated.startswith("v1.new.")
    assert not after.needs_rotation(rotated)
    assert after.rotate(rotated, AD) == rotated
    assert Keyring.parse(f"new:{new_key}").decrypt(rotated, AD) == b"secret"


def test_rotation_checks_associated_data() -> None:
    old_key = generate_key()
    token = Keyring.parse(f"old:{old_key}").encrypt(b"secret", AD)
    with pytest.raises(DecryptionError):
        Keyring.parse(f"new:{generate_key()},old:{old_key}").rotate(token, b"other")


def test_parse_accepts_standard_and_urlsafe_base64() -> None:
    key = bytes(range(250, 256)) * 5 + b"\xfb\xff"  # encodes with '+' / '/' in standard base64
    standard = base64.b64encode(key).decode()
    urlsafe = base64.urlsafe_b64encode(key).decode().rstrip("=")
    assert "+" in standard or "/" in standard
    ring = Keyring.parse(f" a:{standard} , b:{urlsafe} ")
    assert ring.active_kid == "a"
    assert ring.kids == ("a", "b")
    token = Keyring.parse(f"b:{urlsafe}").encrypt(b"x", AD)
    assert ring.decrypt(token, AD) == b"x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        (" , ", "empty"),
        ("k1", "no ':'"),
        (f":{base64.b64encode(os.urandom(32)).decode()}", "key id"),
        (f"k.1:{base64.b64encode(os.urandom(32)).decode()}", "key id"),
        ("k1:not base64!", "not valid base64"),
        (f"k1:{base64.b64encode(os.urandom(16)).decode()}", "16 bytes"),
        (f"k1:{generate_key()},k1:{generate_key()}", "more than once"),
    ],
)
def test_parse_refuses_bad_settings(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Keyring.parse(text)


def test_errors_and_repr_never_show_key_material() -> None:
    short = base64.b64encode(b"0123456789abcdef").decode()
    with pytest.raises(ValueError) as error:
        Keyring.parse(f"k1:{short}")
    assert short not in str(error.value)
    key = generate_key()
    assert key not in repr(Keyring.parse(f"k1:{key}"))


def test_generate_key_is_32_bytes() -> None:
    assert len(base64.urlsafe_b64decode(generate_key())) == 32


# --- webhook signatures -----------------------------------------------------------------------------


def test_sign_hex_matches_document_002_verifier() -> None:
    secret, body = "whsec_abc", b'{"event":"action.approved","data":{"n":"\xc3\xa9"}}'
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert sign_hex(secret, body) == expected
    assert len(expected) == 64


def test_standard_webhook_signature_matches_reference() -> None:
    secret = new_webhook_secret()
    key = base64.b64decode(secret.removeprefix("whsec_"))
    body = b'{"id":"evt_1"}'
    reference = hmac.new(key, b"dlv_1.1700000000." + body, hashlib.sha256).digest()
    assert standard_webhook_signature(secret, "dlv_1", 1700000000, body) == (
        "v1," + base64.b64encode(reference).decode()
    )


def _headers(signature: str, msg_id: str, timestamp: int) -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def test_standardwebhooks_library_verifies_one_secret() -> None:
    secret, body, now = new_webhook_secret(), b'{"event":"action.approved","n":"\xc3\xa9"}', int(time.time())
    signature = standard_webhook_signatures([secret], "dlv_1", now, body)
    Webhook(secret).verify(body, _headers(signature, "dlv_1", now))
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(body, _headers(signature, "dlv_1", now))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", _headers(signature, "dlv_1", now))


def test_standardwebhooks_library_verifies_both_secrets_during_rotation() -> None:
    old, new, body, now = new_webhook_secret(), new_webhook_secret(), b'{"a":1}', int(time.time())
    header = standard_webhook_signatures([new, old], "dlv_2", now, body)
    assert len(header.split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(body, _headers(header, "dlv_2", now))


def test_webhook_secret_format() -> None:
    secret = new_webhook_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_signatures_need_a_list_of_secrets() -> None:
    with pytest.raises(ValueError):
        standard_webhook_signatures([], "m", 1, b"")
    with pytest.raises(TypeError):
        standard_webhook_signatures(new_webhook_secret(), "m", 1, b"")  # type: ignore[arg-type]


# --- API keys -----------------------------------------------------------------------------------------


def test_new_api_key_shape() -> None:
    key = new_api_key()
    assert key.startswith("sk_")
    assert len(key) == 3 + 32 + 6
    assert set(key[3:]) <= set(BASE62)
    assert key[-6:] == api_key_checksum(key[3:-6])
    assert api_key_is_well_formed(key)
    assert new_api_key() != key


def test_checksum_is_six_base62_chars_even_for_small_crcs() -> None:
    for body in ("", "a", "0" * 32):
        checksum = api_key_checksum(body)
        assert len(checksum) == 6
        assert set(checksum) <= set(BASE62)


def test_every_single_character_typo_is_detected() -> None:
    key = new_api_key()
    for position in range(3, len(key)):
        for replacement in BASE62:
            if replacement != key[position]:
                typo = key[:position] + replacement + key[position + 1 :]
                assert not api_key_is_well_formed(typo), typo


@pytest.mark.parametrize(
    "mangle",
    [
        lambda k: "pk_" + k[3:],
        lambda k: k[:-1],
        lambda k: k + "0",
        lambda k: k[:10] + "-" + k[11:],
        lambda k: k[:3] + k[4] + k[3] + k[5:],  # transposition
        lambda k: "",
    ],
)
def test_malformed_api_keys_are_refused(mangle: Callable[[str], str]) -> None:
    key = new_api_key()
    while mangle(key) == key:  # a transposition of two equal characters changes nothing: take another key
        key = new_api_key()
    assert not api_key_is_well_formed(mangle(key))


def test_hash_api_key_is_sha256_hex() -> None:
    key = new_api_key()
    assert hash_api_key(key) == hashlib.sha256(key.encode()).hexdigest()

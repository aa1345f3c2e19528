"""Encryption at rest: AES-GCM under data keys, data keys wrapped by master keys.

Every member's free text in a relationship is encrypted under that member's own data
key for the relationship, so destroying the key makes every copy of their text - in
MongoDB, in JetStream, in backups - unreadable (crypto-shredding), while the other
members' text stays readable. Data keys are stored wrapped by a master key from
configuration; several master keys may be configured at once (the newest wraps, all
unwrap), which is how the master key rotates without downtime.

Ciphertext travels as text: "enc:v1:<nonce>:<ciphertext+tag>" (URL-safe base64), bound
by associated data to the relationship, the author and the field, so a value moved to
another record or field fails to decrypt.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.settings import DEVELOPMENT_MASTER_KEYS, SealingSettings

PREFIX = "enc:v1:"


class KeyUnavailable(Exception):
    """The data key was destroyed (erasure) or cannot be unwrapped with the configured keys."""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt_text(key: bytes, plaintext: str, context: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return f"{PREFIX}{b64(nonce)}:{b64(sealed)}"


def decrypt_text(key: bytes, value: str, context: str) -> str:
    if not is_encrypted(value):
        raise ValueError("not an encrypted value")
    nonce, sealed = value.removeprefix(PREFIX).split(":", 1)
    try:
        return AESGCM(key).decrypt(unb64(nonce), unb64(sealed), context.encode()).decode()
    except InvalidTag as exc:
        raise KeyUnavailable("this value cannot be decrypted with this key") from exc


@dataclass(frozen=True)
class MasterKeys:
    """Configured master keys by id; `current` wraps new data keys, all of them unwrap."""

    keys: dict[str, bytes]
    current: str

    @classmethod
    def parse(cls, spec: str, current: str | None = None) -> MasterKeys:
        """ "id1:<base64 32 bytes>,id2:<base64 32 bytes>"; the current one defaults to the last."""
        keys: dict[str, bytes] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key_id, _, material = item.partition(":")
            key = unb64(material)
            if len(key) != 32:
                raise ValueError(f"master key {key_id!r} must be 32 bytes (base64)")
            keys[key_id] = key
        if not keys:
            raise ValueError("at least one master key is required")
        chosen = current or list(keys)[-1]
        if chosen not in keys:
            raise ValueError(f"current master key {chosen!r} is not configured")
        return cls(keys, chosen)

    def wrap(self, data_key: bytes, key_name: str) -> dict[str, str]:
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, data_key, key_name.encode())
        return {"master": self.current, "nonce": b64(nonce), "sealed": b64(sealed)}

    def unwrap(self, wrapped: dict[str, str], key_name: str) -> bytes:
        master = self.keys.get(wrapped["master"])
        if master is None:
            raise KeyUnavailable(f"master key {wrapped['master']!r} is not configured")
        try:
            return AESGCM(master).decrypt(
                unb64(wrapped["nonce"]), unb64(wrapped["sealed"]), key_name.encode()
            )
        except InvalidTag as exc:
            raise KeyUnavailable("the data key cannot be unwrapped") from exc


def generate_master_key_spec(key_id: str = "k1") -> str:
    return f"{key_id}:{b64(os.urandom(32))}"


def master_keys_of(settings: SealingSettings) -> MasterKeys:
    """The configured master keys; the public development key where none is set (refused in
    production by the settings themselves)."""
    if settings.master_keys is None:
        if settings.environment == "production":
            raise RuntimeError("ATTUNE_MASTER_KEYS must be set in production")
        return MasterKeys.parse(DEVELOPMENT_MASTER_KEYS)
    return MasterKeys.parse(settings.master_keys.get_secret_value(), settings.master_key_id)

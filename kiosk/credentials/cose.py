"""COSE_Sign1 (RFC 9052): decode a signed message and verify it with ES256 or PS256 (or EdDSA) keys.

Only what offline verification of signed QR codes needs: one signer, no external AAD, no countersignatures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

COSE_SIGN1_TAG = 18
CWT_TAG = 61
HEADER_ALG = 1
HEADER_KID = 4
ALG_ES256 = -7
ALG_EDDSA = -8
ALG_PS256 = -37
ALG_ES384 = -35
ALG_ES512 = -36
_ECDSA_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    ALG_ES256: hashes.SHA256,
    ALG_ES384: hashes.SHA384,
    ALG_ES512: hashes.SHA512,
}
ALG_NAMES = {ALG_ES384: "ES384", ALG_ES512: "ES512", ALG_ES256: "ES256", ALG_EDDSA: "EdDSA", ALG_PS256: "PS256"}


class CoseError(ValueError):
    """The bytes are not a COSE_Sign1 message we can read."""


@dataclass(frozen=True)
class CoseSign1:
    """A decoded COSE_Sign1 message; `protected_raw` is kept byte for byte because the signature covers it."""

    protected_raw: bytes
    protected: dict[Any, Any]
    unprotected: dict[Any, Any]
    payload: bytes
    signature: bytes
    tagged: bool = field(default=True)

    @property
    def alg(self) -> int | None:
        """The algorithm (protected header first: only it is covered by the signature)."""
        value = self.protected.get(HEADER_ALG, self.unprotected.get(HEADER_ALG))
        return value if isinstance(value, int) else None

    @property
    def kid(self) -> bytes | None:
        """The key id: from the protected header when present there, else from the unprotected one.

        A protected kid wins even when the unprotected one differs: the protected value is the signed one.
        """
        for headers in (self.protected, self.unprotected):
            value = headers.get(HEADER_KID)
            if isinstance(value, bytes) and value:
                return value
        return None

    def sig_structure(self, external_aad: bytes = b"") -> bytes:
        """The bytes that were signed (RFC 9052 section 4.4)."""
        return cbor2.dumps(["Signature1", self.protected_raw, external_aad, self.payload])


def decode_sign1(data: bytes) -> CoseSign1:
    """Decode COSE_Sign1 bytes (tagged 18 or untagged); raise CoseError when the structure is wrong."""
    try:
        obj = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises several types on bad input; all mean "not CBOR"
        raise CoseError(f"not CBOR: {exc}") from None
    tagged = False
    if isinstance(obj, cbor2.CBORTag) and obj.tag == CWT_TAG:  # some issuers wrap the message in the CWT tag
        obj = obj.value
    if isinstance(obj, cbor2.CBORTag):
        if obj.tag != COSE_SIGN1_TAG:
            raise CoseError(f"CBOR tag {obj.tag} is not COSE_Sign1 (18)")
        obj, tagged = obj.value, True
    if not isinstance(obj, (list, tuple)) or len(obj) != 4:
        raise CoseError("COSE_Sign1 must be an array of 4 items")
    protected_raw, unprotected, payload, signature = obj
    if not isinstance(protected_raw, bytes) or not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise CoseError("COSE_Sign1 protected header, payload and signature must be byte strings")
    if not isinstance(unprotected, Mapping):
        raise CoseError("COSE_Sign1 unprotected header must be a map")
    protected = _decode_protected(protected_raw)
    return CoseSign1(protected_raw, protected, dict(unprotected), payload, signature, tagged)


def _decode_protected(raw: bytes) -> dict[Any, Any]:
    if not raw:
        return {}
    try:
        value = cbor2.loads(raw)
    except Exception:
        raise CoseError("protected header is not CBOR") from None
    if not isinstance(value, Mapping):
        raise CoseError("protected header is not a map")
    return dict(value)


def verify_sign1(message: CoseSign1, public_key: Any) -> bool:
    """True when the signature is valid for this key and the message's algorithm; False otherwise (never raises)."""
    to_be_signed = message.sig_structure()
    try:
        if message.alg in _ECDSA_HASHES and isinstance(public_key, ec.EllipticCurvePublicKey):
            return _verify_ecdsa(message, public_key, to_be_signed)
        if message.alg == ALG_PS256 and isinstance(public_key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
            public_key.verify(message.signature, to_be_signed, pss, hashes.SHA256())
            return True
        if message.alg == ALG_EDDSA and isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(message.signature, to_be_signed)
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


def _verify_ecdsa(message: CoseSign1, public_key: ec.EllipticCurvePublicKey, to_be_signed: bytes) -> bool:
    """COSE carries ECDSA signatures as raw r||s, each as long as the curve's coordinates.

    The curve comes from the trusted key, the hash from the algorithm: one issuer's test data signs "ES256"
    (ECDSA with SHA-256) with a P-384 key, which is still a sound signature by that key.
    """
    size = (public_key.curve.key_size + 7) // 8
    if len(message.signature) != 2 * size:
        return False
    r = int.from_bytes(message.signature[:size], "big")
    s = int.from_bytes(message.signature[size:], "big")
    hash_algorithm = _ECDSA_HASHES[message.alg]()  # type: ignore[index]
    public_key.verify(encode_dss_signature(r, s), to_be_signed, ec.ECDSA(hash_algorithm))
    return True


def encode_sign1(protected: dict[Any, Any], unprotected: dict[Any, Any], payload: bytes, signature: bytes) -> bytes:
    """Assemble a tagged COSE_Sign1 (used by signers and tests)."""
    protected_raw = cbor2.dumps(protected) if protected else b""
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected_raw, unprotected, payload, signature]))

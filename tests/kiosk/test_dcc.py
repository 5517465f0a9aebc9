"""The official EU DCC test cases (../shared/testdata/dcc, 225 cases): every step a case's EXPECTEDRESULTS names.

Steps (as the official test runner reads them): picture decode (the PNG read back equals PREFIX), unprefix,
base45, decompression, CBOR decode, signature (judged against the case's own certificate alone, registered
under its kid: the first 8 bytes of SHA-256 of its DER), expiry at VALIDATIONCLOCK, key usage (the case's
certificate's extended key usage against the certificate type). One test per (case, step), so the counts
are the pass counts. Flags outside these steps (schema validation, valid JSON/object, encode) are not ours.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import zxingcpp
from cryptography import x509

from kiosk.credentials import dcc
from kiosk.credentials.base import Credential, ParseContext, Rejection, TrustMaterial
from kiosk.credentials.verdict import verification_rejection
from tests.support.dcc_cases import DATA_DIR, load_case, validation_clock

# Step name -> the EXPECTEDRESULTS flags that name it. "EXPTECTEDEXPIRED" is a misspelt flag in some issuers'
# files (BG, ES): every one of them is true for a code inside its validity window at the clock, i.e. it means
# "the expiration check passes", and is treated as such.
STEPS: dict[str, tuple[str, ...]] = {
    "picture": ("EXPECTEDPICTUREDECODE",),
    "unprefix": ("EXPECTEDUNPREFIX",),
    "base45": ("EXPECTEDB45DECODE",),
    "decompression": ("EXPECTEDCOMPRESSION",),
    "cbor": ("EXPECTEDDECODE",),
    "signature": ("EXPECTEDVERIFY",),
    "expiry": ("EXPECTEDEXPIRATIONCHECK", "EXPTECTEDEXPIRED"),
    "key_usage": ("EXPECTEDKEYUSAGE",),
}


def _collect() -> list[Any]:
    if not DATA_DIR.is_dir():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=f"test data not found at {DATA_DIR}"))]
    params = []
    for path in sorted(DATA_DIR.rglob("*.json")):
        case = load_case(path)
        expected = case.get("EXPECTEDRESULTS", {})
        name = str(path.relative_to(DATA_DIR).with_suffix(""))
        for step, flags in STEPS.items():
            for flag in flags:
                if flag in expected:
                    params.append(pytest.param(path, step, bool(expected[flag]), id=f"{name}-{step}"))
    return params


def _certificate(case: dict[str, Any]) -> tuple[bytes, x509.Certificate]:
    der = base64.b64decode(case["TESTCTX"]["CERTIFICATE"])
    return der, x509.load_der_x509_certificate(der)


def _own_trust(case: dict[str, Any]) -> TrustMaterial:
    der, cert = _certificate(case)
    return TrustMaterial(dcc_certificates={hashlib.sha256(der).digest()[:8]: [cert]})


def _parse(case: dict[str, Any]) -> Credential | Rejection:
    return dcc.FORMAT.parse(
        case["PREFIX"].encode("ascii"), ParseContext(now=validation_clock(case), trust=_own_trust(case))
    )


def _succeeds(action: Any) -> tuple[bool, Any]:
    try:
        return True, action()
    except dcc.DccError:
        return False, None


# --- one function per step: the step's outcome (True: it succeeded) ------------------------------------------


def step_picture(case: dict[str, Any]) -> bool:
    image_b64 = case.get("2DCODE") or case.get("_2DCODE")
    if not image_b64:
        pytest.skip("the case carries no 2DCODE image to decode")
    image = cv2.imdecode(np.frombuffer(base64.b64decode(image_b64), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return False
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return any(result.text == case["PREFIX"] for result in results)


def step_unprefix(case: dict[str, Any]) -> bool:
    ok, body = _succeeds(lambda: dcc.unprefix(case["PREFIX"]))
    if ok and "BASE45" in case:
        assert body == case["BASE45"], "unprefixed text differs from the case's BASE45"
    return ok


def step_base45(case: dict[str, Any]) -> bool:
    text = case.get("BASE45") or dcc.unprefix(case["PREFIX"])
    ok, raw = _succeeds(lambda: dcc.decode_base45(text))
    if ok and "COMPRESSED" in case:
        assert raw.hex() == case["COMPRESSED"].lower(), "base45 decoding differs from the case's COMPRESSED"
    return ok


def step_decompression(case: dict[str, Any]) -> bool:
    compressed = (
        bytes.fromhex(case["COMPRESSED"]) if "COMPRESSED" in case else dcc.decode_chain(case["PREFIX"]).compressed
    )
    ok, cose = _succeeds(lambda: dcc.decompress(compressed))
    if ok and "COSE" in case:
        assert cose.hex() == case["COSE"].lower(), "decompressed bytes differ from the case's COSE"
    return ok


def step_cbor(case: dict[str, Any]) -> bool:
    def decode() -> dict[str, Any]:
        if "COSE" in case:
            return dcc.health_certificate(dcc.decode_claims(dcc.decode_cose(bytes.fromhex(case["COSE"]))))
        return dcc.decode_chain(case["PREFIX"]).certificate

    # Not compared with the case's JSON: issuers' JSON and CBOR differ (one PL case even in the date of birth).
    ok, certificate = _succeeds(decode)
    return ok and isinstance(certificate, dict)


def step_signature(case: dict[str, Any]) -> bool:
    result = _parse(case)
    if isinstance(result, Rejection):
        return False
    assert result.verification is not None
    valid = result.verification.signature == "valid"
    # The station's verdict agrees with the signature step.
    rejection = verification_rejection(result)
    assert valid or (rejection is not None and rejection.code in ("bad_signature", "unknown_key"))
    return valid


def step_expiry(case: dict[str, Any]) -> bool:
    result = _parse(case)
    assert isinstance(result, Credential), f"expected a decodable certificate: {getattr(result, 'reason', '')}"
    assert result.verification is not None and result.verification.expired is not None
    return not result.verification.expired


def step_key_usage(case: dict[str, Any]) -> bool:
    decoded = dcc.decode_chain(case["PREFIX"])
    _, cert = _certificate(case)
    usage = dcc.key_usage(cert, dcc.certificate_type(decoded.certificate))
    result = _parse(case)
    if isinstance(result, Credential) and result.verification and result.verification.key_usage is not None:
        assert result.verification.key_usage == usage  # the parser reads the same certificate the same way
    return usage in ("ok", "not_restricted")


STEP_FUNCTIONS = {
    "picture": step_picture,
    "unprefix": step_unprefix,
    "base45": step_base45,
    "decompression": step_decompression,
    "cbor": step_cbor,
    "signature": step_signature,
    "expiry": step_expiry,
    "key_usage": step_key_usage,
}


@pytest.mark.parametrize(("path", "step", "expected"), _collect())
def test_official_case(path: Path, step: str, expected: bool) -> None:
    case = load_case(path)
    assert STEP_FUNCTIONS[step](case) is expected


# --- our own checks beyond the official data ----------------------------------------------------------------------


def _valid_case() -> dict[str, Any]:
    return load_case(DATA_DIR / "common/2DCode/raw/CO1.json")


needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"test data not found at {DATA_DIR}")


@needs_data
def test_credential_fields_of_a_valid_certificate() -> None:
    case = _valid_case()
    result = _parse(case)
    assert isinstance(result, Credential)
    assert result.kind == "dcc"
    assert result.full_name == "Gabriele Musterfrau-Gößinger"
    assert result.date_of_birth is not None and result.date_of_birth.isoformat() == case["JSON"]["dob"]
    assert result.id_number == case["JSON"]["v"][0]["ci"]
    assert result.fields["cert_type"] == "v"
    assert result.fields["issuer_country"] == "AT"
    assert result.verification is not None and result.verification.signature == "valid"
    assert verification_rejection(result) is None


@needs_data
def test_unknown_key_without_trust_list() -> None:
    case = _valid_case()
    result = dcc.FORMAT.parse(case["PREFIX"].encode(), ParseContext(now=validation_clock(case)))
    assert isinstance(result, Credential) and result.verification is not None
    assert result.verification.signature == "unknown_key"
    rejection = verification_rejection(result)
    assert rejection is not None and rejection.code == "unknown_key"


@needs_data
def test_expired_certificate_is_refused_with_a_reason() -> None:
    case = _valid_case()
    later = datetime(2031, 1, 1, tzinfo=UTC)
    result = dcc.FORMAT.parse(case["PREFIX"].encode(), ParseContext(now=later, trust=_own_trust(case)))
    assert isinstance(result, Credential)
    rejection = verification_rejection(result)
    assert rejection is not None and rejection.code == "expired"


def test_partial_dates_of_birth_are_tolerated() -> None:
    assert dcc.date_of_birth("1964") is None
    assert dcc.date_of_birth("1964-08") is None
    assert dcc.date_of_birth("") is None
    assert dcc.date_of_birth("1964-08-15") is not None
    assert dcc.date_of_birth("1964-08-15T00:00:00") is not None


@pytest.mark.parametrize("payload", [b"HC1:", b"HC1:%%%", b"HC1:NCF", b"HC1:" + b"A" * 30, b"HC1:\xff\xfe"])
def test_undecodable_structure_is_malformed(payload: bytes) -> None:
    result = dcc.FORMAT.parse(payload, ParseContext(now=datetime.now(UTC)))
    assert isinstance(result, Rejection) and result.code == "malformed" and result.reason


# --- signer certificates as real issuers make them (issue 11 #10) -------------------------------------------------


def _tlv(tag: bytes, content: bytes) -> bytes:
    size = len(content)
    if size < 128:
        return tag + bytes([size]) + content
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return tag + bytes([0x80 | len(raw)]) + raw + content


def _issuer_style_certificate(not_before: datetime, not_after: datetime) -> bytes:
    """A DCC signer certificate (EKU: vaccinations only) whose BasicConstraints writes out its DEFAULT cA FALSE,
    as one issuer's certificates in the official data do: BER, not the strict DER `cryptography` reads."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID, ObjectIdentifier

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DSC test")])
    strict = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ObjectIdentifier("1.3.6.1.4.1.1847.2021.1.2")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    parsed = asn1_x509.Certificate.load(strict.public_bytes(Encoding.DER))
    tbs = parsed["tbs_certificate"]
    old = tbs["extensions"].dump()
    assert tbs.contents.endswith(old)
    items = [
        _tlv(b"\x30", b"\x06\x03\x55\x1d\x13" + _tlv(b"\x04", b"\x30\x03\x01\x01\x00"))
        if ext["extn_id"].dotted == "2.5.29.19"
        else ext.dump()
        for ext in tbs["extensions"]
    ]
    tbs_der = _tlv(b"\x30", tbs.contents[: -len(old)] + _tlv(b"\xa3", _tlv(b"\x30", b"".join(items))))
    signature = key.sign(tbs_der, ec.ECDSA(hashes.SHA256()))
    return _tlv(b"\x30", tbs_der + parsed["signature_algorithm"].dump() + _tlv(b"\x03", b"\x00" + signature))


def test_a_signer_certificate_with_an_explicit_default_is_read_leniently() -> None:
    from datetime import timedelta

    from kiosk.credentials.trust import load_signer_certificate, parse_trust_list

    now = datetime.now(UTC)
    der = _issuer_style_certificate(now - timedelta(days=1), now + timedelta(days=30))
    cert = x509.load_der_x509_certificate(der)
    with pytest.raises(ValueError, match="EncodedDefault"):
        _ = cert.extensions  # what `cryptography` alone makes of it
    assert dcc.key_usage(cert, "v") == "ok"  # not "mismatch": its EKU allows vaccinations
    assert dcc.key_usage(cert, "t") == "mismatch"  # and only those
    assert load_signer_certificate(der).serial_number == 1
    listed = parse_trust_list({"certificates": [{"certificate": base64.b64encode(der).decode()}]})
    assert [dcc.key_usage(c, "v") for group in listed.values() for c in group] == ["ok"]


def test_the_signer_certificates_validity_is_checked_at_the_validation_time() -> None:
    from datetime import timedelta

    now = datetime.now(UTC)
    cert = x509.load_der_x509_certificate(_issuer_style_certificate(now - timedelta(days=1), now + timedelta(days=30)))
    assert dcc.signer_valid_at(cert, now)
    assert not dcc.signer_valid_at(cert, now + timedelta(days=31))
    assert not dcc.signer_valid_at(cert, now - timedelta(days=2))
    # The verdict: a valid code from the official data, judged after its signer certificate ran out.
    case = _valid_case()
    der, signer = _certificate(case)
    late = signer.not_valid_after_utc + timedelta(days=1)
    result = dcc.FORMAT.parse(case["PREFIX"].encode("ascii"), ParseContext(now=late, trust=_own_trust(case)))
    assert isinstance(result, Credential) and result.verification is not None
    assert result.verification.signature == "valid" and result.verification.expired

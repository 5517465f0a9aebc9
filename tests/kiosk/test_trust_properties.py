"""Property tests: no byte string crashes the signed-format parsers; base45 round-trips; trust files load safely."""

from __future__ import annotations

import base64
import json
import logging
import zlib
from datetime import UTC, datetime
from pathlib import Path

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.credentials import dcc, personal, trust
from kiosk.credentials.base import Credential, ParseContext, Rejection
from kiosk.credentials.base45 import ALPHABET, Base45Error, b45decode, b45encode
from kiosk.credentials.text import clean_field
from tests.support.paths import SHARED_TESTDATA

CONTEXT = ParseContext(now=datetime(2026, 11, 25, tzinfo=UTC))
DATA_DIR = SHARED_TESTDATA / "dcc"
FORMATS = (dcc.FORMAT, personal.FORMAT)

base45_text = st.text(alphabet=ALPHABET, max_size=300)
cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.text(max_size=20) | st.binary(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=8) | st.dictionaries(st.integers(-300, 10) | st.text(max_size=5), inner, max_size=6)
    ),
    max_leaves=30,
)


def _never_raises(data: bytes) -> None:
    for fmt in FORMATS:
        fmt.sniff(data)
        result = fmt.parse(data, CONTEXT)
        assert isinstance(result, (Credential, Rejection))
        if isinstance(result, Rejection):
            assert result.reason


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes(data: bytes) -> None:
    _never_raises(data)
    _never_raises(b"HC1:" + data)
    _never_raises(b"QC1:" + data)


@settings(max_examples=300, deadline=None)
@given(base45_text)
def test_prefixed_base45_text(text: str) -> None:
    _never_raises(("HC1:" + text).encode())
    _never_raises(("QC1:" + text).encode())


@settings(max_examples=300, deadline=None)
@given(cbor_values)
def test_well_encoded_garbage_cbor(value: object) -> None:
    encoded = cbor2.dumps(value)
    _never_raises(("QC1:" + b45encode(encoded)).encode())
    _never_raises(("HC1:" + b45encode(zlib.compress(encoded))).encode())
    sign1 = cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: -7}), {}, encoded, b"\x00" * 64]))
    _never_raises(("HC1:" + b45encode(zlib.compress(sign1))).encode())
    _never_raises(("QC1:" + b45encode(cbor2.dumps([encoded, b"\x00" * 64]))).encode())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_base45_round_trip(data: bytes) -> None:
    assert b45decode(b45encode(data)) == data


@pytest.mark.parametrize("text", ["GGW", "A", ":::", "abc", "Ä", "ZZZ"])
def test_base45_refuses_invalid_text(text: str) -> None:
    with pytest.raises(Base45Error):
        b45decode(text)


def test_base45_rfc_examples() -> None:
    assert b45encode(b"AB") == "BB8"
    assert b45encode(b"Hello!!") == "%69 VD92EX0"
    assert b45encode(b"base-45") == "UJCLQE7W581"
    assert b45decode("QED8WEX0") == b"ietf!"


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=20,
    )
)
def test_trust_parsers_never_raise_on_any_json(obj: object) -> None:
    assert isinstance(trust.parse_trust_list(obj), dict)
    assert isinstance(trust.parse_personal_keys(obj), dict)
    people, keys = trust.parse_revocations(obj)
    assert isinstance(people, frozenset) and isinstance(keys, frozenset)


@pytest.mark.skipif(not DATA_DIR.is_dir(), reason=f"test data not found at {DATA_DIR}")
def test_trust_list_file_skips_bad_entries(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    case = json.loads((DATA_DIR / "common/2DCode/raw/CO1.json").read_text(encoding="utf-8-sig"))
    der = base64.b64decode(case["TESTCTX"]["CERTIFICATE"])
    kid = base64.b64encode(trust.certificate_kid(der)).decode()
    entries = [
        {"kid": kid, "certificate": case["TESTCTX"]["CERTIFICATE"]},
        {"kid": "AAAA", "certificate": "bm90IGEgY2VydA=="},
        {"kid": kid},
        "junk",
    ]
    path = tmp_path / "trust.json"
    path.write_text(json.dumps({"certificates": entries}))
    with caplog.at_level(logging.WARNING):
        material = trust.load_trust_list(path)
    assert list(material.dcc_certificates) == [trust.certificate_kid(der)]
    assert caplog.text.count("skipped") == 3
    result = dcc.FORMAT.parse(
        case["PREFIX"].encode(), ParseContext(now=datetime(2021, 5, 3, 18, tzinfo=UTC), trust=material)
    )
    assert isinstance(result, Credential) and result.verification is not None
    assert result.verification.signature == "valid"


def test_unreadable_trust_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    path.write_text("{not json")
    with pytest.raises(trust.TrustFileError, match="not valid JSON"):
        trust.load_trust_list(path)
    with pytest.raises(trust.TrustFileError, match="cannot read"):
        trust.load_trust_list(tmp_path / "missing.json")


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=120), person=st.text(alphabet="ABCDEFGHJKMNPQRSTVWXYZ0123456789", min_size=1, max_size=40))
def test_any_name_issues_a_code_that_fits_and_verifies(name: str, person: str) -> None:
    from datetime import timedelta

    from cryptography.hazmat.primitives.asymmetric import ed25519

    from kiosk.credentials.base import TrustMaterial
    from kiosk.credentials.personal_sign import MAX_QR_CHARS, fit_name, issue_personal_qr

    key = ed25519.Ed25519PrivateKey.generate()
    now = CONTEXT.now
    text = issue_personal_qr(key, "K261125ABCD", person, name, now + timedelta(days=1), now, False)
    assert len(text) <= MAX_QR_CHARS
    result = personal.FORMAT.parse(
        text.encode(), ParseContext(now=now, trust=TrustMaterial(personal_keys={"K261125ABCD": key.public_key()}))
    )
    assert isinstance(result, Credential) and result.verification is not None
    assert result.verification.signature == "valid" and result.id_number == person
    # What the kiosk shows: the (possibly shortened) signed name, without unsafe characters.
    assert clean_field(fit_name(name), 200).text.startswith(result.full_name)


def test_bidi_override_in_a_signed_name_never_reaches_the_screen() -> None:
    from datetime import timedelta

    from cryptography.hazmat.primitives.asymmetric import ed25519

    from kiosk.credentials.base import TrustMaterial
    from kiosk.credentials.personal_sign import issue_personal_qr

    key = ed25519.Ed25519PrivateKey.generate()
    text = issue_personal_qr(key, "K1", "P1", "An\u202eB\u200bình", CONTEXT.now + timedelta(days=1))
    result = personal.FORMAT.parse(
        text.encode(), ParseContext(now=CONTEXT.now, trust=TrustMaterial(personal_keys={"K1": key.public_key()}))
    )
    assert isinstance(result, Credential)
    assert result.full_name == "AnBình" and "unsafe_text" in result.warnings
    assert result.verification is not None and result.verification.signature == "valid"

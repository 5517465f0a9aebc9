"""Median time to parse and verify one signed credential offline (target: <= 5 ms on the kiosk machine).

Measures the whole `parse` (prefix, base45, zlib, COSE/CBOR, signature, expiry, key usage) for:
an EU DCC signed ES256 and one signed PS256 (official test cases), and our personal QR (Ed25519).
    python benchmarks/bench_verify.py [--runs 2000]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519

from kiosk.credentials import dcc, personal
from kiosk.credentials.base import Credential, ParseContext, TrustMaterial
from kiosk.credentials.personal_sign import issue_personal_qr

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared/testdata/dcc"


def _dcc_case(alg: int) -> tuple[bytes, ParseContext]:
    """The first valid official case signed with `alg`, with its certificate as the trust list."""
    for path in sorted(DATA_DIR.rglob("*.json")):
        case = json.loads(path.read_text(encoding="utf-8-sig"))
        if case.get("EXPECTEDRESULTS", {}).get("EXPECTEDVERIFY") is not True:
            continue
        try:
            decoded = dcc.decode_chain(case["PREFIX"])
        except dcc.DccError:
            continue
        if decoded.message.alg != alg:
            continue
        der = base64.b64decode(case["TESTCTX"]["CERTIFICATE"])
        cert = x509.load_der_x509_certificate(der)
        if (
            alg == -7
            and getattr(cert.public_key(), "curve", None) is not None
            and cert.public_key().curve.name != "secp256r1"
        ):
            continue
        trust = TrustMaterial(dcc_certificates={hashlib.sha256(der).digest()[:8]: [cert]})
        clock = datetime.fromisoformat(case["TESTCTX"]["VALIDATIONCLOCK"][:19]).replace(tzinfo=UTC)
        return case["PREFIX"].encode(), ParseContext(now=clock, trust=trust)
    raise SystemExit(f"no valid official case with alg {alg} under {DATA_DIR}")


def _personal_case() -> tuple[bytes, ParseContext]:
    key = ed25519.Ed25519PrivateKey.generate()
    now = datetime.now(UTC)
    text = issue_personal_qr(
        key, "k2026-11", "P7F3K9Q2M4X8", "Tôn Nữ Hoàng Ngọc Bảo Quỳnh", now + timedelta(days=30), now, False
    )
    return text.encode(), ParseContext(now=now, trust=TrustMaterial(personal_keys={"k2026-11": key.public_key()}))


def _measure(fmt: Any, data: bytes, context: ParseContext, runs: int) -> list[float]:
    result = fmt.parse(data, context)
    assert isinstance(result, Credential) and result.verification and result.verification.signature == "valid"
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fmt.parse(data, context)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    cases = {
        "DCC ES256": (dcc.FORMAT, *_dcc_case(-7)),
        "DCC PS256": (dcc.FORMAT, *_dcc_case(-37)),
        "personal QR Ed25519": (personal.FORMAT, *_personal_case()),
    }
    print(f"{'credential':<22} {'median ms':>10} {'p99 ms':>8} {'max ms':>8}  (runs={args.runs})")
    for name, (fmt, data, context) in cases.items():
        times = sorted(_measure(fmt, data, context, args.runs))
        p99 = times[int(len(times) * 0.99) - 1]
        print(f"{name:<22} {statistics.median(times):>10.3f} {p99:>8.3f} {times[-1]:>8.3f}")


if __name__ == "__main__":
    main()

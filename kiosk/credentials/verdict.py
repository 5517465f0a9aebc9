"""From a signed credential's offline verification to a Rejection (or None when it passes).

Parsers of signed formats return a Credential with `verification` filled in even when the signature fails,
so that tools can say why; whoever admits people calls `verification_rejection` first. The codes match
`kiosk.rules.verification_problem`.
"""

from __future__ import annotations

from kiosk.credentials.base import Credential, Rejection, Verification


def verification_problem(verification: Verification) -> tuple[str, str] | None:
    """(code, reason) for the first thing that makes this credential untrustworthy, else None."""
    if verification.signature == "unknown_key":
        return "unknown_key", "Signed by an unknown key: cannot be verified (trust list out of date?)"
    if verification.signature != "valid":
        return "bad_signature", "Invalid signature: the code was altered or forged"
    if verification.revoked:
        return "revoked", "This code has been revoked"
    if verification.expired:
        return "expired", "This code has expired (or is not valid yet)"
    if verification.key_usage == "mismatch":
        return "key_usage", "The signer may not issue this kind of certificate"
    return None


def verification_rejection(credential: Credential) -> Rejection | None:
    """A Rejection when the credential is signed and fails verification; None when it passes or is unsigned."""
    if credential.verification is None:
        return None
    problem = verification_problem(credential.verification)
    if problem is None:
        return None
    code, reason = problem
    return Rejection(
        kind=credential.kind, code=code, reason=reason, id_number=credential.id_number, full_name=credential.full_name
    )

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from application.ports.token_signer import CredentialRejectedError, TokenSigner


def _check(key_id: str, body: str) -> str:
    return hashlib.sha256(f"{key_id}\0{body}".encode()).hexdigest()[:16]


class FakeTokenSigner(TokenSigner):
    """``fake.<key id>.<base64 JSON body>.<check>``: readable by anyone, but it keeps the port's
    promises: the first key id signs, every configured key id verifies, any edit fails, and
    audience and expiry are enforced."""

    def __init__(self, key_ids: Iterable[str] = ("fake",)) -> None:
        self._key_ids = list(key_ids)

    def sign(
        self,
        claims: Mapping[str, str],
        *,
        audience: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> str:
        document = {
            "claims": dict(claims),
            "aud": audience,
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        body = base64.urlsafe_b64encode(json.dumps(document).encode()).decode()
        key_id = self._key_ids[0]
        return f"fake.{key_id}.{body}.{_check(key_id, body)}"

    def verify(self, token: str, *, audience: str, now: datetime) -> dict[str, str]:
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != "fake" or parts[1] not in self._key_ids:
            raise CredentialRejectedError
        _, key_id, body, check = parts
        if _check(key_id, body) != check:
            raise CredentialRejectedError
        try:
            document = json.loads(base64.urlsafe_b64decode(body.encode()))
        except (binascii.Error, ValueError) as exc:
            raise CredentialRejectedError from exc
        if document["aud"] != audience or document["exp"] <= int(now.timestamp()):
            raise CredentialRejectedError
        return {str(name): str(value) for name, value in document["claims"].items()}

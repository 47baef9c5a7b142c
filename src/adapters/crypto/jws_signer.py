from collections.abc import Mapping
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from application.ports.token_signer import CredentialRejectedError, TokenSigner

__all__ = ("JwsTokenSigner",)

_ALGORITHM = "HS256"
_LEEWAY_S = 5
_RESERVED = frozenset({"aud", "exp", "iat", "nbf", "iss", "jti"})


class JwsTokenSigner(TokenSigner):
    """HMAC-SHA256 JWTs (RFC 7519) whose ``kid`` header names the signing key."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise ValueError("JwsTokenSigner needs at least one key")
        self._keys = KeySet(
            [OctKey.import_key(key, {"kid": key_id}) for key_id, key in keys.items()]
        )
        self._current = next(iter(keys))

    def sign(
        self,
        claims: Mapping[str, str],
        *,
        audience: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> str:
        reserved = _RESERVED & claims.keys()
        if reserved:
            raise ValueError(f"claims may not set {sorted(reserved)}")
        body: dict[str, Any] = {
            **claims,
            "aud": audience,
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        return jwt.encode({"alg": _ALGORITHM, "kid": self._current}, body, self._keys)

    def verify(self, token: str, *, audience: str, now: datetime) -> dict[str, str]:
        try:
            decoded = jwt.decode(token, self._keys, algorithms=[_ALGORITHM])
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise CredentialRejectedError from exc
        if decoded.header.get("kid") is None:
            raise CredentialRejectedError
        claims = decoded.claims
        moment = int(now.timestamp())
        expires = claims.get("exp")
        issued = claims.get("iat")
        if (
            claims.get("aud") != audience
            or not isinstance(expires, int)
            or not isinstance(issued, int)
            or expires <= moment
            or issued > moment + _LEEWAY_S
        ):
            raise CredentialRejectedError
        found = {name: value for name, value in claims.items() if name not in _RESERVED}
        if not all(isinstance(value, str) for value in found.values()):
            raise CredentialRejectedError
        return found

"""Sealing and signing, with the keys of the crypto settings."""

from dishka import Provider, Scope, provide

from adapters.crypto import (
    SIGNING_KEY_FILE,
    AesGcmCipher,
    JwsTokenSigner,
    load_or_create_key_file,
)
from application.ports.cipher import Cipher
from application.ports.token_signer import TokenSigner
from entrypoints.settings import Binding, Settings, parse_encryption_keys

__all__ = ("CryptoProvider",)


class CryptoProvider(Provider):
    """AES-256-GCM with the keys of ``MAESTRIST_ENCRYPTION_KEYS``; signed short-lived
    credentials with the keys of ``MAESTRIST_SIGNING_KEYS``. The embedded binding, without
    them, keeps generated keys in its data directory."""

    @provide(scope=Scope.APP)
    def cipher(self, settings: Settings) -> Cipher:
        if settings.crypto.encryption_keys is None and settings.binding is Binding.EMBEDDED:
            spec = load_or_create_key_file(settings.data_dir)
            return AesGcmCipher(parse_encryption_keys(spec))
        return AesGcmCipher(settings.crypto.encryption_key_map)

    @provide(scope=Scope.APP)
    def signer(self, settings: Settings) -> TokenSigner:
        if settings.crypto.signing_keys is None and settings.binding is Binding.EMBEDDED:
            spec = load_or_create_key_file(settings.data_dir, SIGNING_KEY_FILE)
            return JwsTokenSigner(parse_encryption_keys(spec))
        return JwsTokenSigner(settings.crypto.signing_key_map)

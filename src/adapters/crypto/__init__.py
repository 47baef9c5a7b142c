from adapters.crypto.aes_gcm import AesGcmCipher
from adapters.crypto.jws_signer import JwsTokenSigner
from adapters.crypto.key_file import SIGNING_KEY_FILE, load_or_create_key_file

__all__ = ("SIGNING_KEY_FILE", "AesGcmCipher", "JwsTokenSigner", "load_or_create_key_file")

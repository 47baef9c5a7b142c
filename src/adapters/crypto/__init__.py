from adapters.crypto.aes_gcm import AesGcmCipher
from adapters.crypto.key_file import load_or_create_key_file

__all__ = ("AesGcmCipher", "load_or_create_key_file")

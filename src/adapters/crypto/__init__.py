from adapters.crypto.aes_gcm import AesGcmCipher

__all__ = ("AesGcmCipher",)

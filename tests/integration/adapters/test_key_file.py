import stat
from pathlib import Path

from adapters.crypto import AesGcmCipher, load_or_create_key_file
from entrypoints.settings import parse_encryption_keys


def test_the_embedded_key_file_is_made_once_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create_key_file(tmp_path / "data")
    path = tmp_path / "data" / "encryption-keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key_file(tmp_path / "data") == first
    sealed = AesGcmCipher(parse_encryption_keys(first)).encrypt("llm-key", context="c")
    again = AesGcmCipher(parse_encryption_keys(load_or_create_key_file(tmp_path / "data")))
    assert again.decrypt(sealed, context="c") == "llm-key"


def test_an_operator_can_add_a_newer_key_on_top(tmp_path: Path) -> None:
    old = load_or_create_key_file(tmp_path)
    newer = "k2:" + "A" * 43
    (tmp_path / "encryption-keys").write_text(f"{newer}\n{old}\n")
    keys = parse_encryption_keys(load_or_create_key_file(tmp_path))
    assert next(iter(keys)) == "k2"
    assert len(keys) == 2

"""``just mutate`` keeps the verdicts found across runs: what it saves never loses a kill or a
survivor whose function is unchanged, even when a run stops or fails before testing anything;
a timeout is tested again, and so are the survivors when asked."""

import json
from pathlib import Path

import pytest
from scripts import mutate

A = "adapters.x.x_f"
B = "adapters.x.x_g"


def _meta(mutants: Path, hashes: dict[str, str], codes: dict[str, int | None]) -> None:
    path = mutants / "src" / "adapters" / "x.py.meta"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"hash_by_function_name": hashes, "exit_code_by_key": codes}))


@pytest.fixture
def where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    mutants, verdicts = tmp_path / "mutants", tmp_path / "verdicts.json"
    monkeypatch.setattr(mutate, "MUTANTS", mutants)
    monkeypatch.setattr(mutate, "VERDICTS", verdicts)
    return mutants, verdicts


def test_a_run_that_tested_nothing_keeps_the_earlier_kills_of_unchanged_functions(
    where: tuple[Path, Path],
) -> None:
    mutants, verdicts = where
    _meta(mutants, {"x_f": "h1", "x_g": "h2"}, {f"{A}__mutmut_1": 1, f"{B}__mutmut_1": 1})
    assert mutate.save_verdicts() == 2

    # the next run changed g and reset every result (it stopped, or failed, before testing)
    _meta(mutants, {"x_f": "h1", "x_g": "h3"}, {f"{A}__mutmut_1": None, f"{B}__mutmut_1": None})
    assert mutate.save_verdicts() == 1
    kept = json.loads(verdicts.read_text())["src/adapters/x.py.meta"]
    assert kept == {
        "hash_by_function_name": {"x_f": "h1", "x_g": "h3"},
        "exit_code_by_key": {f"{A}__mutmut_1": 1},
    }

    # and a kill found since is added to them
    _meta(mutants, {"x_f": "h1", "x_g": "h3"}, {f"{A}__mutmut_1": None, f"{B}__mutmut_1": 3})
    assert mutate.save_verdicts() == 2


def test_a_fresh_checkout_starts_from_the_kept_kills_and_survivors(
    where: tuple[Path, Path],
) -> None:
    mutants, _ = where
    codes: dict[str, int | None] = {f"{A}__mutmut_1": 1, f"{A}__mutmut_2": 0, f"{A}__mutmut_3": -24}
    _meta(mutants, {"x_f": "h1"}, codes)
    assert mutate.save_verdicts() == 2
    for meta in mutants.rglob("*.meta"):
        meta.unlink()

    assert mutate.restore_verdicts() == 2
    restored = json.loads((mutants / "src" / "adapters" / "x.py.meta").read_text())
    # the survivor stays one (counted against the score); the timeout is tested again
    assert restored["exit_code_by_key"] == {f"{A}__mutmut_1": 1, f"{A}__mutmut_2": 0}

    for meta in mutants.rglob("*.meta"):
        meta.unlink()
    assert mutate.restore_verdicts(recheck=True) == 1
    restored = json.loads((mutants / "src" / "adapters" / "x.py.meta").read_text())
    assert restored["exit_code_by_key"] == {f"{A}__mutmut_1": 1}  # survivors tested again


def test_a_survivor_killed_since_is_kept_killed(where: tuple[Path, Path]) -> None:
    mutants, verdicts = where
    _meta(mutants, {"x_f": "h1"}, {f"{A}__mutmut_1": 0})
    mutate.save_verdicts()
    _meta(mutants, {"x_f": "h1"}, {f"{A}__mutmut_1": 1})  # a --recheck run killed it
    mutate.save_verdicts()
    kept = json.loads(verdicts.read_text())["src/adapters/x.py.meta"]
    assert kept["exit_code_by_key"] == {f"{A}__mutmut_1": 1}


def test_a_resumed_run_names_only_the_groups_mutants_without_a_verdict(
    where: tuple[Path, Path],
) -> None:
    mutants, _ = where
    cipher = "adapters.crypto.aes_gcm.x_seal"
    codes: dict[str, int | None] = {
        f"{cipher}__mutmut_1": 1,
        f"{cipher}__mutmut_2": 0,
        f"{cipher}__mutmut_3": None,
        f"{A}__mutmut_1": None,  # in no group
    }
    path = mutants / "src" / "adapters" / "crypto" / "aes_gcm.py.meta"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"hash_by_function_name": {}, "exit_code_by_key": codes}))
    assert mutate.pending(["cipher"]) == [f"{cipher}__mutmut_3"]
    assert mutate.pending(["auth"]) == []

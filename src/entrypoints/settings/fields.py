"""How a settings section declares its variables: each field names its environment variable,
its documentation and its parser, and a section reads itself from the environment."""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, Field, field, fields, replace
from enum import StrEnum
from typing import Any, Self, TypeVar, cast

__all__ = (
    "Binding",
    "Section",
    "SettingsError",
    "read_fields",
    "reference_rows",
    "section",
    "setting",
)

_T = TypeVar("_T")
_S = TypeVar("_S", bound="Section")


class SettingsError(ValueError):
    """One or more environment variables are missing or malformed; each is named."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        lines = "\n".join(f"  {name}: {why}" for name, why in self.problems.items())
        super().__init__(f"Invalid configuration:\n{lines}")


class Binding(StrEnum):
    EMBEDDED = "embedded"
    CLUSTERED = "clustered"


def setting(
    env: str,
    doc: str,
    parse: Callable[[str], _T],
    *,
    default: _T,
    shown: str | None = None,
    secret: bool = False,
) -> _T:
    """A field read from ``env`` with ``parse`` (which raises ``ValueError`` naming what is
    wrong); ``shown`` replaces the default in the reference, ``secret`` keeps it out of repr."""
    metadata = {"env": env, "doc": doc, "parse": parse, "shown": shown}
    return field(default=default, repr=not secret, metadata=metadata)


def section(kind: type[_S]) -> _S:
    """A field holding a whole section, read from the environment with the rest."""
    return field(default_factory=kind, metadata={"section": kind})


class Section:
    """A frozen group of settings of one family; ``problems`` holds its own rules."""

    __slots__ = ()

    def problems(self, binding: Binding) -> dict[str, str]:
        """Rules among this section's settings under ``binding``, keyed by variable."""
        del binding
        return {}

    def with_changes(self, **changes: Any) -> Self:
        return cast("Self", replace(cast("Any", self), **changes))


def _settings_of(kind: type[object]) -> Iterator[Field[Any]]:
    return (spec for spec in fields(cast("Any", kind)) if "env" in spec.metadata)


def read_fields(
    kind: type[object], environ: Mapping[str, str], problems: dict[str, str]
) -> dict[str, Any]:
    """The values of ``kind``'s set variables by field name; a bad one goes to ``problems``."""
    values: dict[str, Any] = {}
    for spec in _settings_of(kind):
        name = spec.metadata["env"]
        raw = environ.get(name)
        if raw is None or raw.strip() == "":
            continue
        try:
            values[spec.name] = spec.metadata["parse"](raw.strip())
        except ValueError as exc:
            problems[name] = str(exc)
    return values


def _shown(default: object) -> str:
    if default is MISSING or default is None or default == ():
        return ""
    if isinstance(default, bool):
        return str(default).lower()
    return str(default)


def reference_rows(kind: type[object]) -> list[tuple[str, str, str]]:
    """(variable, default, description) of ``kind`` and its sections, in declaration order."""
    rows: list[tuple[str, str, str]] = []
    for spec in fields(cast("Any", kind)):
        if "section" in spec.metadata:
            rows.extend(reference_rows(spec.metadata["section"]))
        elif "env" in spec.metadata:
            shown = spec.metadata["shown"] or _shown(spec.default)
            rows.append((spec.metadata["env"], shown, spec.metadata["doc"]))
    return rows

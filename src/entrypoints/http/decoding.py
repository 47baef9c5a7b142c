"""What every request's text goes through before a handler sees it: a body that is not JSON we
can read is a 400 like any malformed JSON, and no string may carry a NUL character, which
PostgreSQL text refuses (the same request must mean the same on SQLite and PostgreSQL), and a
body is held to the types its schema documents."""

import re
from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, SerializationException, ValidationException

__all__ = ("DecodingRequest", "screen_request")

_NUL = "\x00"
_NUL_MESSAGE = "Text cannot contain the NUL character (\\u0000)."


def _nul_paths(document: Any) -> Iterator[str]:
    """The JSON path (``a.b[0]``) of each string, key or value, that holds a NUL; walked
    without recursion, since a decoded body may nest as deep as the decoder allowed."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _NUL in value:
                yield path or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and _NUL in key:
                    yield where
                else:
                    stack.append((where, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))


def _refuse(source: str, fields: list[str]) -> ValidationException:
    return ValidationException(
        detail=f"{_NUL_MESSAGE} Found in: {', '.join(fields)}.",
        extra=[{"key": field, "source": source, "message": _NUL_MESSAGE} for field in fields],
    )


class DecodingRequest(Request[Any, Any, Any]):
    """Decodes JSON bodies as Litestar does, but turns the decoder's refusals that are not
    ``DecodeError`` (a body nested too deeply, bytes that are not UTF-8) into the same
    malformed-body answer, and refuses a string with a NUL, naming where it is."""

    async def json(self) -> Any:
        try:
            document = await super().json()
        except RecursionError as exc:
            raise SerializationException("The JSON body is nested too deeply.") from exc
        except UnicodeDecodeError as exc:
            raise SerializationException("The JSON body is not valid UTF-8.") from exc
        found = sorted(set(_nul_paths(document)))
        if found:
            raise _refuse("body", found)
        return document


async def _refuse_nul_in_query_and_path(request: Request[Any, Any, Any]) -> None:
    """Before any handler: a NUL in a query parameter or a path parameter is a 422 naming it."""
    found = sorted(
        {
            key
            for key, value in request.query_params.multi_items()
            if _NUL in key or (isinstance(value, str) and _NUL in value)
        }
    )
    if found:
        raise _refuse("query", found)
    found = sorted(
        key
        for key, value in request.path_params.items()
        if isinstance(value, str) and _NUL in value
    )
    if found:
        raise _refuse("path", found)


_AT = re.compile(r"^(?P<message>.*) - at `\$\.(?P<field>[^`]+)`$")
"""msgspec's ``Expected `bool`, got `int` - at `$.analyticsConsent``."""


def _body_type(request: Request[Any, Any, Any]) -> type[msgspec.Struct] | None:
    declared = request.route_handler.parsed_fn_signature.parameters.get("data")
    annotation = None if declared is None else declared.annotation
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    return None


async def _decode_body_strictly(request: Request[Any, Any, Any]) -> None:
    """Refuse (422) a JSON body that only a lenient conversion fits to its struct.

    Litestar converts a decoded body to the handler's type with msgspec's ``strict=False``,
    made for query strings, so ``0`` passed for ``false``, ``"true"`` for ``true`` and ``"5"``
    for ``5``, none of which the document allows. Decoding the body strictly first refuses
    those, naming the field. The body is decoded once, by the request (which refuses what is not
    JSON it can read), and converted here strictly.
    """
    body_type = _body_type(request)
    if body_type is None:
        return
    if not await request.body():
        return
    try:
        document = await request.json()
    except SerializationException as error:  # not JSON we can read: 400, as Litestar answers
        raise ClientException(str(error)) from error
    try:
        msgspec.convert(document, type=body_type, strict=True)
    except msgspec.ValidationError as error:
        found = _AT.match(str(error))
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[
                {
                    "key": found["field"] if found else "data",
                    "message": found["message"] if found else str(error),
                    "source": "body",
                }
            ],
        ) from None


async def screen_request(request: Request[Any, Any, Any]) -> None:
    """Before any handler: no NUL in the query or path, and a body held to its schema."""
    await _refuse_nul_in_query_and_path(request)
    await _decode_body_strictly(request)

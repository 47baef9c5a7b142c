"""Request bodies are held to the types their schemas document."""

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException, SerializationException, ValidationException

__all__ = ("decode_body_strictly",)

_AT = re.compile(r"^(?P<message>.*) - at `\$\.(?P<field>[^`]+)`$")
"""msgspec's ``Expected `bool`, got `int` - at `$.analyticsConsent``."""


def _body_type(request: Request[Any, Any, Any]) -> type[msgspec.Struct] | None:
    declared = request.route_handler.parsed_fn_signature.parameters.get("data")
    annotation = None if declared is None else declared.annotation
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    return None


async def decode_body_strictly(request: Request[Any, Any, Any]) -> None:
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

"""The names clients know things by. Every HTTP schema here renames its attributes with
msgspec's ``rename="camel"``; the core names a field by its attribute (``git_provider``), and
this gives the name a client sent or reads it under (``gitProvider``)."""

from functools import cache

import msgspec

__all__ = ("wire_name",)


@cache
def wire_name(attribute: str) -> str:
    """``attribute`` renamed as msgspec renames a Struct field; a name that is no attribute
    (a header such as ``X-Org-Id``) is the client's already, and stays as it is."""
    if not attribute.isidentifier():
        return attribute
    named = msgspec.defstruct("Named", [(attribute, object)], rename="camel")
    return msgspec.structs.fields(named)[0].encode_name

"""Authenticators run before any use case, on the request's transaction's doorstep: they may
open units of work of their own, but are never handed the request's, so nothing but the use
case commits it."""

import inspect
from typing import get_type_hints

import pytest

import application.identity.api_key_authenticator
import application.identity.local_user_authenticator
import application.identity.session_authenticator
import application.identity.signed_in_authenticator
from application.identity.authenticator import Authenticator
from application.ports.unit_of_work import UnitOfWork, UnitsOfWork

MODULES = (
    application.identity.api_key_authenticator,
    application.identity.local_user_authenticator,
    application.identity.session_authenticator,
    application.identity.signed_in_authenticator,
)
AUTHENTICATORS = sorted(
    {
        cls
        for module in MODULES
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if Authenticator in cls.__mro__ and cls is not Authenticator
    },
    key=lambda cls: cls.__name__,
)


def test_every_authenticator_is_checked() -> None:
    assert {cls.__name__ for cls in AUTHENTICATORS} == {
        "ApiKeyAuthenticator",
        "LocalUserAuthenticator",
        "SessionAuthenticator",
        "SignedInAuthenticator",
    }


@pytest.mark.parametrize("authenticator", AUTHENTICATORS, ids=lambda cls: cls.__name__)
def test_no_authenticator_takes_the_requests_unit_of_work(authenticator: type) -> None:
    hints = get_type_hints(vars(authenticator)["__init__"])
    assert UnitOfWork not in hints.values()
    if authenticator.__name__ != "SignedInAuthenticator":  # it only picks one of the others
        assert UnitsOfWork in hints.values()

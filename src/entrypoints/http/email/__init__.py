from entrypoints.http.email.controller import EmailController

__all__ = ("EmailController",)

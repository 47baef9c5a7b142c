from entrypoints.http.sign_in.controller import SessionController, SignInController

__all__ = ("SessionController", "SignInController")

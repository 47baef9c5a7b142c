from entrypoints.http.git.controller import CONNECT_PATH, GitConnectionController

__all__ = ("CONNECT_PATH", "GitConnectionController")

from entrypoints.http.runtime.controller import RuntimeController

__all__ = ("RuntimeController",)

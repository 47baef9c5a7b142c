"""Inbound edges (HTTP, websocket, CLI) and the composition root (``ioc``)."""

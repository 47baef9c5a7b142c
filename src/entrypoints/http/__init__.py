"""Litestar controllers, the auth guard, the error table and the msgspec wire schemas."""

"""Alembic revisions; every one runs on PostgreSQL and SQLite."""

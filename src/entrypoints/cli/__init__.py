"""The ``maestrist`` command."""

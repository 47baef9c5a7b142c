"""Entities, value objects, domain errors and ports. Standard library only."""

"""Adapters: one package per technology family, each class subclassing the port it implements."""

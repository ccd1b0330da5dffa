"""Baton: a Rasa support assistant that passes the baton to a live agent."""

__version__ = "0.1.0"

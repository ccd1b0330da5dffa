"""Custom components of Baton's Rasa NLU pipeline (``config.yml``)."""

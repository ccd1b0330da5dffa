"""Baton's custom Rasa actions, served by ``rasa run actions --actions actions``.

One module per area: :mod:`actions.knowledge` answers from the knowledge base
and acts on "did that help?", :mod:`actions.handoff` hands the conversation
over to a person, :mod:`actions.fallback` words the two-stage fallback and
gives up to a person. Importing a module only defines classes: no clients,
files or database (the knowledge base connects on first use).
"""

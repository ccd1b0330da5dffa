"""Training: what trainers learn from real conversations.

- :mod:`.masking`: e-mail addresses, phone numbers and card-like numbers
  masked before a trainer sees a message.
- :mod:`.repository`: reads the messages the bot struggled with; writes
  trainers' annotations (the ``training_annotations`` table).
- :mod:`.inbox`: the inbox: flagged customer messages with their context,
  grouped by meaning so that one decision labels many.
- :mod:`.annotations`: a trainer's decision (an article, an intent, out of
  scope, dismiss) and its undo; an article or "none" becomes a labelled
  question the knowledge-base search learns from at once, an intent a
  training example.
- :mod:`.nlu_data`: the committed Rasa NLU files (the baseline) and where
  rules, stories and slots use intents.
- :mod:`.validation`: what trainers may write (intent names, example
  texts, changes to an intent).
- :mod:`.intents`: intents and examples as Rasa will learn them: the
  baseline plus trainers' changes kept in SQL.
- :mod:`.nlu_files`: that data as Rasa YAML files and back
  (``baton nlu export`` / ``import``).
- :mod:`.jobs`, :mod:`.worker`: training jobs, one at a time, in a separate
  low-priority process.
- :mod:`.evaluation`: the held-out set, a candidate and the live model
  measured on it side by side, and the regression guard.
- :mod:`.models`: the trained models, deploy and rollback, the model server.
"""

from bot.training.annotations import AnnotationRequest, Annotations
from bot.training.inbox import Inbox, InboxFilter, Reason
from bot.training.masking import mask

__all__ = [
    "AnnotationRequest",
    "Annotations",
    "Inbox",
    "InboxFilter",
    "Reason",
    "mask",
]

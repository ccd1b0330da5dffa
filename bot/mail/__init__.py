"""E-mail to customers (conversation recaps), sent by SMTP or kept in an outbox.

Every mail is a row of ``mail_outbox`` first. With an SMTP server configured
(``BATON_SMTP_HOST``) it is then sent and marked ``sent`` (or ``failed``);
without one ("demo mode") it stays ``kept`` and agents read it in the console
through ``GET /api/outbox``. What a mail says is its sender's business (a
recap is :mod:`bot.conversations.recap`); this package only delivers it.
"""

from bot.mail.address import valid_email
from bot.mail.outbox import OutboxRecord, OutboxRepository
from bot.mail.sender import Mailer

__all__ = [
    "Mailer",
    "OutboxRecord",
    "OutboxRepository",
    "valid_email",
]

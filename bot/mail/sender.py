"""Sending mail: into the outbox always, then by SMTP when one is configured."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from bot.auth.service import mask_email
from bot.config import Smtp
from bot.mail.outbox import OutboxRecord, OutboxRepository

logger = logging.getLogger(__name__)


class Mailer:
    """Keeps every mail in the outbox and sends it when SMTP is configured."""

    def __init__(self, repository: OutboxRepository, smtp: Smtp) -> None:
        self.repository = repository
        self.smtp = smtp

    @property
    def demo_mode(self) -> bool:
        """Whether mail is only kept (no SMTP server configured)."""
        return not self.smtp.host

    async def deliver(
        self,
        *,
        recipient: str,
        subject: str,
        body: str,
        kind: str,
        conversation_id: str | None = None,
    ) -> OutboxRecord:
        """Store the mail, then send it unless in demo mode.

        A failed send is recorded (``failed``, with the reason) and returned,
        never raised: the caller tells the customer.
        """
        mail = await self.repository.add(
            conversation_id=conversation_id,
            kind=kind,
            recipient=recipient,
            subject=subject,
            body=body,
            status="kept",
        )
        if self.demo_mode:
            logger.info("kept %s mail %s for %s", kind, mail.id, mask_email(recipient))
            return mail
        return await self._send_and_mark(mail)

    async def send_kept(self, mail_id: int) -> OutboxRecord | None:
        """Send a mail stored ``kept`` (by :meth:`OutboxRepository.add_in`).

        In demo mode, or when the mail is no longer ``kept``, nothing is done.

        Returns:
            The mail as it is now, or ``None`` if there is no such mail.
        """
        mail = await self.repository.get(mail_id)
        if mail is None or mail.status != "kept" or self.demo_mode:
            return mail
        return await self._send_and_mark(mail)

    async def _send_and_mark(self, mail: OutboxRecord) -> OutboxRecord:
        kind, recipient = mail.kind, mail.recipient
        try:
            await self._send(mail)
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"[:255]
            logger.warning(
                "could not send %s mail %s to %s: %s",
                kind,
                mail.id,
                mask_email(recipient),
                type(error).__name__,
            )
            await self.repository.mark(mail.id, "failed", reason)
        else:
            logger.info("sent %s mail %s to %s", kind, mail.id, mask_email(recipient))
            await self.repository.mark(mail.id, "sent")
        found = await self.repository.get(mail.id)
        assert found is not None
        return found

    async def _send(self, mail: OutboxRecord) -> None:
        import aiosmtplib

        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="baton")
        message.set_content(mail.body)
        if mail.html:
            message.add_alternative(mail.html, subtype="html")
        await aiosmtplib.send(
            message,
            hostname=self.smtp.host,
            port=self.smtp.port,
            username=self.smtp.username,
            password=self.smtp.password,
            use_tls=self.smtp.security == "tls",
            start_tls=self.smtp.security == "starttls",
            timeout=self.smtp.timeout_s,
        )

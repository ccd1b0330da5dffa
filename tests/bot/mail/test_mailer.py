"""The mail outbox and sender, on SQLite and PostgreSQL, against a real SMTP server."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from bot.config import Smtp
from bot.conversations.repository import ConversationRepository
from bot.db.models import utcnow
from bot.mail import Mailer, OutboxRecord, OutboxRepository
from tests.conftest import free_port


async def _kept(
    repository: OutboxRepository, conversation_id: str | None, subject: str
) -> OutboxRecord:
    return await repository.add(
        conversation_id=conversation_id,
        kind="recap",
        recipient="ann@example.com",
        subject=subject,
        body="Hi",
        status="kept",
    )


async def _conversation(engine: Any) -> str:
    conversation_id = secrets.token_hex(8)
    await ConversationRepository(engine).create(conversation_id, "hash")
    return conversation_id


async def test_without_an_smtp_host_mail_is_kept_in_the_outbox(engine) -> None:
    mailer = Mailer(OutboxRepository(engine), Smtp())
    assert mailer.demo_mode
    before = utcnow()
    mail = await mailer.deliver(
        recipient="ann@example.com", subject="Your chat", body="Hi", kind="recap"
    )
    assert (mail.status, mail.error, mail.sent_at) == ("kept", None, None)
    assert mail.created_at.tzinfo is not None
    assert mail.created_at >= before - dt.timedelta(seconds=1)
    assert await OutboxRepository(engine).get(mail.id) == mail


async def test_mail_is_sent_by_smtp_and_marked_sent(engine, smtp_server) -> None:
    controller, inbox = smtp_server
    smtp = Smtp(
        host="127.0.0.1",
        port=controller.port,
        security="none",
        sender="Baton Support <support@example.com>",
    )
    conversation_id = await _conversation(engine)
    mail = await Mailer(OutboxRepository(engine), smtp).deliver(
        recipient="ann@example.com",
        subject="Your chat with us",
        body="What was said.\n",
        kind="recap",
        conversation_id=conversation_id,
    )
    assert (mail.status, mail.error) == ("sent", None)
    assert mail.sent_at is not None and mail.sent_at.tzinfo is not None
    assert mail.conversation_id == conversation_id
    [(recipients, message)] = inbox.mails
    assert recipients == ["ann@example.com"]
    assert message["Subject"] == "Your chat with us"
    assert message["From"] == "Baton Support <support@example.com>"
    assert message["Message-ID"]
    # SMTP carries lines ended by CRLF.
    body = message.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert body == "What was said.\n"


async def test_a_failed_send_is_recorded_not_raised(engine) -> None:
    # Nothing listens on this port: the connection is refused.
    smtp = Smtp(host="127.0.0.1", port=free_port(), security="none", timeout_s=5)
    mail = await Mailer(OutboxRepository(engine), smtp).deliver(
        recipient="ann@example.com", subject="Your chat", body="Hi", kind="recap"
    )
    assert mail.status == "failed"
    assert mail.sent_at is None
    assert mail.error and mail.error.startswith("SMTP")
    assert len(mail.error) <= 255
    assert await OutboxRepository(engine).get(mail.id) == mail


async def test_the_outbox_lists_a_conversations_mail_newest_first(engine) -> None:
    repository = OutboxRepository(engine)
    conversation_id = await _conversation(engine)
    other = await _conversation(engine)
    since = utcnow() - dt.timedelta(seconds=1)
    made = [await _kept(repository, conversation_id, f"Recap {n}") for n in range(3)]
    await _kept(repository, other, "Not this one")
    newest_first = await repository.recent(conversation_id=conversation_id)
    assert [mail.id for mail in newest_first] == [mail.id for mail in made[::-1]]
    page = await repository.recent(
        conversation_id=conversation_id, limit=1, before_id=made[2].id
    )
    assert [mail.id for mail in page] == [made[1].id]
    assert await repository.count_for_conversation(conversation_id, "recap", since) == 3
    assert await repository.count_for_conversation(conversation_id, "other", since) == 0
    later = utcnow() + dt.timedelta(minutes=1)
    assert await repository.count_for_conversation(conversation_id, "recap", later) == 0


async def test_marking_a_mail_records_its_outcome(engine) -> None:
    repository = OutboxRepository(engine)
    mail = await _kept(repository, None, "Your chat")
    await repository.mark(mail.id, "failed", "SMTPServerDisconnected: gone")
    failed = await repository.get(mail.id)
    assert failed is not None
    assert (failed.status, failed.error, failed.sent_at) == (
        "failed",
        "SMTPServerDisconnected: gone",
        None,
    )
    await repository.mark(mail.id, "sent")
    sent = await repository.get(mail.id)
    assert sent is not None and sent.status == "sent" and sent.error is None
    assert sent.sent_at is not None and sent.sent_at.tzinfo is not None
    assert sent.to_dict()["sent_at"] == sent.sent_at.isoformat()
    assert await repository.get(mail.id + 1_000_000) is None

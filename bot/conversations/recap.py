"""The recap of a conversation: what was said, and what was done about it.

A view of the conversation's messages; :mod:`bot.mail` only delivers it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.conversations.repository import ConversationRecord, MessageRecord

_NUMBERED = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(.+)$")
_ROLE_NAMES = {"customer": "You", "bot": "Assistant", "agent": "Support"}
#: Rasa's own bookkeeping actions are not something "done" for the customer.
_INTERNAL_ACTIONS = ("action_listen", "action_session_start", "action_restart")


@dataclass(frozen=True)
class Recap:
    """A recap e-mail's subject and plain-text body."""

    subject: str
    body: str


def _steps(message: MessageRecord) -> list[str]:
    steps = message.meta.get("steps")
    if isinstance(steps, list) and all(isinstance(s, str) for s in steps):
        return list(steps)
    return [
        m.group(1) for line in message.text.splitlines() if (m := _NUMBERED.match(line))
    ]


def _actions(messages: Sequence[MessageRecord]) -> list[str]:
    done: list[str] = []
    for message in messages:
        nlu = message.meta.get("_nlu")
        actions = nlu.get("actions") if isinstance(nlu, dict) else None
        for action in actions if isinstance(actions, list) else []:
            if (
                isinstance(action, str)
                and action.startswith("action_")
                and action not in _INTERNAL_ACTIONS
                and action not in done
            ):
                done.append(action)
    return done


def build_recap(
    conversation: ConversationRecord,
    messages: Sequence[MessageRecord],
) -> Recap:
    """Write the recap of a conversation.

    Args:
        conversation: The conversation.
        messages: All its messages, in order.

    Returns:
        The subject and plain-text body: the transcript, the help articles
        shown with their steps, what the assistant did, and the handoffs.
    """
    started = conversation.created_at.strftime("%d %B %Y, %H:%M UTC")
    lines = [
        "Hello,",
        "",
        f"here is the recap of your support conversation (started {started}).",
        "",
    ]
    articles: list[tuple[str, list[str]]] = []
    for message in messages:
        slug = message.meta.get("article")
        if message.role == "bot" and isinstance(slug, str):
            title = message.meta.get("title")
            steps = _steps(message)
            name = title if isinstance(title, str) else slug.replace("-", " ")
            if steps and name not in {a for a, _ in articles}:
                articles.append((name, steps))
    notices = [m.text for m in messages if m.role == "system"]
    actions = _actions(messages)
    if articles or notices or actions:
        lines += ["What was done", "-------------", ""]
        for name, steps in articles:
            lines.append(f'Steps from the help article "{name}":')
            lines += [f"  {n}. {step}" for n, step in enumerate(steps, 1)]
            lines.append("")
        for action in actions:
            plain = action.removeprefix("action_").replace("_", " ")
            lines.append(f"- The assistant did: {plain}")
        for notice in notices:
            lines.append(f"- {notice}")
        lines.append("")
    lines += ["Transcript", "----------", ""]
    for message in messages:
        if message.role == "system":
            continue
        when = message.created_at.strftime("%H:%M")
        who = _ROLE_NAMES.get(message.role, message.role)
        lines.append(f"[{when}] {who}:")
        lines += [f"  {line}" for line in message.text.splitlines() or [""]]
    lines += [
        "",
        "You can reply in the chat any time; we will see everything above.",
    ]
    return Recap(
        subject=f"Your support conversation ({started})",
        body="\n".join(lines),
    )

"""Canned replies: answers the team shares, inserted by typing ``/`` and a shortcut.

Admins write them; every agent reads them. The public surface:
:class:`CannedReplies` (validation and storage) and :class:`CannedReply`.
"""

from bot.canned.repository import CannedReplies, CannedReply

__all__ = ["CannedReplies", "CannedReply"]

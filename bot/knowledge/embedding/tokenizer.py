"""The model's uncased BERT WordPiece tokenizer, from its ``vocab.txt``.

It splits text as the model's tokenizer does: clean, lowercase, strip
accents, split punctuation and CJK characters, then greedy longest-match
word pieces. Every message the NLU pipeline parses goes through it once, so
the common case is quick: an ASCII text is split by one regular expression
(the same words as the character-by-character rules, which only matter
beyond ASCII), and the pieces of a word seen before are looked up.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

#: sentence-transformers' ``max_seq_length`` for this model, in word pieces
#: with ``[CLS]`` and ``[SEP]``; longer messages are cut.
MAX_SEQUENCE = 256
MAX_WORD_CHARS = 100
#: How many words' pieces a tokenizer remembers (then it starts afresh).
WORD_MEMORY = 50_000

#: ASCII characters the rules drop (control characters, not tab or line
#: breaks, which become spaces).
_ASCII_CLEAN = {
    **{code: None for code in [*range(32), 127] if chr(code) not in "\t\n\r"},
    **{ord(char): " " for char in "\t\n\r"},
}
#: In cleaned, lowercased ASCII: a punctuation mark (what
#: :func:`_is_punctuation` says of ASCII), or a run of other non-spaces.
_ASCII_WORDS = re.compile(r"[!-/:-@\[-`{-~]|[^!-/:-@\[-`{-~ ]+")


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class WordPieceTokenizer:
    """The uncased BERT tokenizer of the model, from its ``vocab.txt``."""

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self._ids = {piece: index for index, piece in enumerate(vocabulary)}
        self.unknown = self._ids["[UNK]"]
        self.first = self._ids["[CLS]"]
        self.last = self._ids["[SEP]"]
        self._known: dict[str, list[int]] = {}

    @classmethod
    def from_file(cls, path: Path) -> WordPieceTokenizer:
        """Load ``vocab.txt``: one piece per line, the line number its id."""
        return cls(path.read_text(encoding="utf-8").splitlines())

    def words(self, text: str) -> list[str]:
        """Normalise and split a text into words and punctuation marks."""
        if text.isascii():
            # ASCII has no accents, CJK or other whitespace: the rules below
            # come down to dropping control characters and splitting.
            return _ASCII_WORDS.findall(text.translate(_ASCII_CLEAN).lower())
        return self.words_by_rules(text)

    def words_by_rules(self, text: str) -> list[str]:
        """:meth:`words` character by character, as BERT's tokenizer does."""
        cleaned: list[str] = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or _is_control(char):
                continue
            if _is_whitespace(char):
                cleaned.append(" ")
            elif _is_cjk(code):
                cleaned.append(f" {char} ")
            else:
                cleaned.append(char)
        decomposed = unicodedata.normalize("NFD", "".join(cleaned).lower())
        stripped = "".join(
            char for char in decomposed if unicodedata.category(char) != "Mn"
        )
        words: list[str] = []
        for token in stripped.split():
            current = ""
            for char in token:
                if _is_punctuation(char):
                    if current:
                        words.append(current)
                        current = ""
                    words.append(char)
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def pieces(self, word: str) -> list[int]:
        """Greedy longest-match word pieces of one word (``[UNK]`` if none fit)."""
        if len(word) > MAX_WORD_CHARS:
            return [self.unknown]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self._ids.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self.unknown]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_length: int = MAX_SEQUENCE) -> list[int]:
        """Token ids with ``[CLS]`` and ``[SEP]``, cut to ``max_length``."""
        ids: list[int] = []
        budget = max_length - 2
        known = self._known
        for word in self.words(text):
            pieces = known.get(word)
            if pieces is None:
                if len(known) >= WORD_MEMORY:
                    known.clear()
                pieces = known[word] = self.pieces(word)
            ids.extend(pieces)
            if len(ids) >= budget:
                break
        return [self.first, *ids[:budget], self.last]

"""Text normalisation shared by the knowledge-base scorers: terms and stems."""

from __future__ import annotations

import re

WORD_PATTERN = re.compile(r"[a-z0-9]+")
APOSTROPHES = str.maketrans("", "", "'\u2019`")
#: A single letter hyphenated to a word is one word: ``e-mail``, ``e-book``.
LETTER_PREFIX = re.compile(r"\b([a-z])-(?=[a-z])")
VOWELS = frozenset("aeiouy")

STOPWORDS = frozenset(
    """
    a about after again all also am an and any are as at be been being but by
    can cant could did didnt do does doesnt dont for from had has have having
    hello hey hi how i id if im in into is isnt it its ive just let lets me
    my myself no not of on or our out please so some than thank thanks that
    the their them then there these they this those to too u us very was we
    were what when where which who why will with wont would you your yours
    """.split()
)

# Ordered: the first matching suffix is replaced, the stem must keep at least
# ``min_stem`` letters so that short words ("thing", "need") stay whole.
SUFFIX_RULES: tuple[tuple[str, str, int], ...] = (
    ("ication", "y", 3),
    ("ation", "", 3),
    ("ied", "y", 3),
    ("ing", "", 3),
    ("ed", "", 3),
    ("ment", "", 3),
    ("ly", "", 4),
)


def stem(word: str) -> str:
    """Reduce an English word to a crude stem, the same way for every form.

    Plurals, ``-ing``, ``-ed``, ``-ly``, ``-ment`` and ``-ation`` are stripped,
    a final ``e`` is dropped and a final doubled consonant is collapsed, so
    that e.g. *syncing*, *synced* and *syncs* all become ``sync`` and
    *installation* and *installing* both become ``instal``. Stems need not be
    words; they only need to agree.

    Args:
        word: A lowercase word.

    Returns:
        The stem.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix, replacement, min_stem in SUFFIX_RULES:
        if word.endswith(suffix):
            base = word[: -len(suffix)]
            if len(base) >= min_stem and VOWELS.intersection(base):
                word = base + replacement
            break
    if len(word) >= 4 and word.endswith("e"):
        word = word[:-1]
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in VOWELS:
        word = word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Split text into search terms.

    Lowercases, removes apostrophes (``can't`` → ``cant``), joins a single
    letter hyphenated to a word (``e-mail`` → ``email``), splits on anything
    that is not a letter or digit, drops stopwords, and stems what is left.

    Args:
        text: Any text: a query or an article field.

    Returns:
        The terms, in order, with repetitions.
    """
    joined = LETTER_PREFIX.sub(r"\1", text.lower().translate(APOSTROPHES))
    words = WORD_PATTERN.findall(joined)
    return [stem(word) for word in words if word not in STOPWORDS]

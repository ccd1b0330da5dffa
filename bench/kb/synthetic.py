"""Synthesise a large, realistic-ish knowledge base from the seed vocabulary.

The distractors describe features and problems the seed does not cover
(tables, widgets, integrations, ...), on varied platforms and plans, and reuse
sentences and tags from the seed articles so that they compete for the same
words. A fixed random seed makes every run identical.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from bot.knowledge import Article

RANDOM_SEED = 20240601
FEATURES = (
    "tables",
    "templates",
    "calendar view",
    "web clipper",
    "tags",
    "checklists",
    "code blocks",
    "handwriting",
    "audio notes",
    "global search",
    "backlinks",
    "daily notes",
    "kanban boards",
    "math equations",
    "themes",
    "fonts",
    "home screen widgets",
    "printing",
    "pdf annotations",
    "document scanner",
    "email to lumen",
    "pinned notes",
    "nested notebooks",
    "workspace roles",
    "audit log",
    "api tokens",
    "zapier integration",
    "slack integration",
    "google drive integration",
    "dropbox integration",
    "outlook add-in",
    "apple watch app",
    "wear os app",
    "chromebook app",
    "tablet layout",
    "split view",
    "focus mode",
    "word count",
    "spell check",
    "interface language",
    "accessibility",
    "screen readers",
    "presentation mode",
    "publishing",
    "comments",
    "mentions",
    "emoji picker",
    "link previews",
    "embeds",
    "note history timeline",
    "graph view",
    "quick capture",
    "share extension",
)
PLATFORMS = ("Windows", "macOS", "Linux", "iOS", "Android", "the web app")
PLANS = ("Free", "Plus", "Team")
TITLE_TEMPLATES = (
    "How to use {feature}",
    "{Feature} not working on {platform}",
    "{Feature} settings explained",
    "Troubleshoot {feature} on {platform}",
    "{Feature} limits on the {plan} plan",
    "Set up {feature} for your team",
    "{Feature}: frequently asked questions",
    "Turn off {feature}",
    "{Feature} missing after an update on {platform}",
    "{Feature} and sync on {platform}",
)
INTENTS = (
    "password_reset",
    "account_locked",
    "two_factor_problem",
    "billing_question",
    "refund_request",
    "cancel_subscription",
    "update_payment",
    "sync_problem",
    "install_problem",
    "service_status",
    "complaint",
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _sentences(articles: Sequence[Article]) -> list[str]:
    found: list[str] = []
    for article in articles:
        for paragraph in article.body.split("\n\n"):
            text = " ".join(
                line.strip(" -#*0123456789.") for line in paragraph.splitlines()
            )
            found.extend(
                part for part in SENTENCE_END.split(text) if 40 <= len(part) <= 200
            )
    return found


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80].strip("-")


def synthesise(seed: Sequence[Article], total: int) -> list[Article]:
    """Return ``seed`` plus generated distractors: ``total`` published in all."""
    generator = random.Random(RANDOM_SEED)
    sentences = _sentences(seed)
    seed_tags = sorted({tag for article in seed for tag in article.tags})
    articles = list(seed)
    slugs = {article.slug for article in articles}
    published = sum(article.is_published for article in articles)
    while published < total:
        published += 1
        feature = generator.choice(FEATURES)
        values = {
            "feature": feature,
            "Feature": feature[0].upper() + feature[1:],
            "platform": generator.choice(PLATFORMS),
            "plan": generator.choice(PLANS),
        }
        title = generator.choice(TITLE_TEMPLATES).format(**values)
        slug = _slugify(title)
        if slug in slugs:
            slug = _slugify(f"{title} {len(articles)}")
        slugs.add(slug)
        borrowed = generator.sample(sentences, generator.randint(2, 5))
        body = "\n\n".join(
            [
                f"This article covers {feature} in Lumen on {values['platform']}.",
                *borrowed,
                f"{values['Feature']} is available on the {values['plan']} plan "
                "and above.",
            ]
        )
        articles.append(
            Article(
                slug=slug,
                title=title,
                summary=(
                    f"{values['Feature']} on {values['platform']}: what it does, "
                    f"how to set it up and what to check when it fails."
                ),
                body=body,
                steps=(f"Open Settings and find {feature}",),
                tags=(feature, *generator.sample(seed_tags, 2)),
                intents=(
                    (generator.choice(INTENTS),) if generator.random() < 0.15 else ()
                ),
                examples=(
                    f"How do I use {feature}?",
                    f"{values['Feature']} doesn't work on {values['platform']}",
                    f"Is {feature} included in {values['plan']}?",
                    f"Where are the {feature} settings?",
                    f"Can I turn off {feature}?",
                ),
            )
        )
    return articles

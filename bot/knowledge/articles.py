"""Knowledge-base articles: the record, its validation, and its file formats.

An article is stored either as a YAML mapping (``<slug>.yml``) or as Markdown
with YAML front matter (``<slug>.md``)::

    ---
    slug: password-reset
    title: Reset your password
    ...
    ---
    The body, in Markdown.

Both formats hold exactly the same fields and round-trip without loss.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.exceptions import BadRequest

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 80
MAX_TITLE_LENGTH = 200
MAX_SUMMARY_LENGTH = 600
MAX_BODY_BYTES = 64 * 1024
INTENT_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
STATUSES = ("published", "draft")
YAML_SUFFIXES = (".yml", ".yaml")
MARKDOWN_SUFFIX = ".md"
FRONT_MATTER_FENCE = "---\n"

REQUIRED_FIELDS = ("slug", "title", "summary", "body")
LIST_FIELDS = ("steps", "tags", "intents", "examples")

FileFormat = Literal["yaml", "markdown"]


class KnowledgeError(BadRequest):
    """An article, or a file holding one, is invalid.

    Attributes:
        code: Machine-readable reason, e.g. ``missing_field`` or ``bad_slug``.
        field: The offending field, when the error is about one.
        source: The file the article came from, when it came from a file.
    """

    code = "invalid_article"

    def __init__(
        self,
        message: str,
        *,
        code: str,
        field: str | None = None,
        source: str | None = None,
    ) -> None:
        if source is not None:
            message = f"{source}: {message}"
        super().__init__(message, code=code)
        self.field = field
        self.source = source

    def to_dict(self) -> dict[str, dict[str, str]]:
        """Return the public JSON shape, with ``field`` when it names one."""
        shape = super().to_dict()
        if self.field is not None:
            shape["error"]["field"] = self.field
        return shape


@dataclass(frozen=True)
class Article:
    """One knowledge-base article, validated on construction.

    Attributes:
        slug: Stable identifier, lowercase words joined by hyphens.
        title: Short human title.
        summary: One or two sentences; the first line of the chat answer.
        body: The full answer, in Markdown.
        steps: Short imperative steps the bot may offer one by one.
        tags: Free-form keywords that help search.
        intents: Names of the Rasa intents this article answers.
        examples: Customer questions this article answers.
        status: ``published`` (searchable) or ``draft``.
        version: Revision number, increased on every edit.
    """

    slug: str
    title: str
    summary: str
    body: str
    steps: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    status: str = "published"
    version: int = 1

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def is_published(self) -> bool:
        """Whether the article is visible to customers and to search."""
        return self.status == "published"

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str | None = None
    ) -> Article:
        """Build an article from a plain mapping, e.g. parsed YAML or JSON.

        Args:
            data: The article's fields; list fields may be lists or tuples.
            source: Where the data came from, quoted in error messages.

        Returns:
            The validated article.

        Raises:
            KnowledgeError: A field is missing, unknown, of the wrong type, or
                has an invalid value.
        """
        if not isinstance(data, Mapping):
            raise KnowledgeError(
                f"an article must be a mapping, got {type(data).__name__}",
                code="not_a_mapping",
                source=source,
            )
        known = {item.name for item in fields(cls)}
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            raise KnowledgeError(
                f"unknown field(s): {', '.join(unknown)}",
                code="unknown_field",
                field=unknown[0],
                source=source,
            )
        for name in REQUIRED_FIELDS:
            if data.get(name) is None:
                raise KnowledgeError(
                    f"missing required field {name!r}",
                    code="missing_field",
                    field=name,
                    source=source,
                )
        values: dict[str, Any] = dict(data)
        for name in LIST_FIELDS:
            raw = values.get(name)
            if raw is None:
                values[name] = ()
            elif isinstance(raw, (list, tuple)):
                values[name] = tuple(raw)
            else:
                raise KnowledgeError(
                    f"{name!r} must be a list, got {type(raw).__name__}",
                    code="wrong_type",
                    field=name,
                    source=source,
                )
        try:
            return cls(**values)
        except KnowledgeError as error:
            if source is None:
                raise
            raise KnowledgeError(
                error.message, code=error.code, field=error.field, source=source
            ) from error

    def to_dict(self) -> dict[str, Any]:
        """Return the article as plain data (lists, not tuples), in field order."""
        data = asdict(self)
        for name in LIST_FIELDS:
            data[name] = list(data[name])
        return data


def _validate(article: Article) -> None:
    """Raise :class:`KnowledgeError` for the first problem found in ``article``."""
    for name in ("slug", "title", "summary", "body", "status"):
        value = getattr(article, name)
        if not isinstance(value, str):
            raise KnowledgeError(
                f"{name!r} must be text, got {type(value).__name__}",
                code="wrong_type",
                field=name,
            )
    for name in LIST_FIELDS:
        items = getattr(article, name)
        if not isinstance(items, tuple) or not all(
            isinstance(item, str) and item.strip() for item in items
        ):
            raise KnowledgeError(
                f"{name!r} must be a list of non-empty texts",
                code="wrong_type",
                field=name,
            )
    if isinstance(article.version, bool) or not isinstance(article.version, int):
        raise KnowledgeError(
            f"'version' must be a whole number, got {article.version!r}",
            code="wrong_type",
            field="version",
        )
    if len(article.slug) > MAX_SLUG_LENGTH:
        raise KnowledgeError(
            f"slug is {len(article.slug)} characters, the limit is {MAX_SLUG_LENGTH}",
            code="slug_too_long",
            field="slug",
        )
    if not SLUG_PATTERN.match(article.slug):
        raise KnowledgeError(
            f"slug {article.slug!r} must be lowercase letters and digits "
            "separated by single hyphens",
            code="bad_slug",
            field="slug",
        )
    for name, limit in (("title", MAX_TITLE_LENGTH), ("summary", MAX_SUMMARY_LENGTH)):
        value = getattr(article, name)
        if not value.strip():
            raise KnowledgeError(f"{name!r} is empty", code="empty_field", field=name)
        if len(value) > limit:
            raise KnowledgeError(
                f"{name!r} is {len(value)} characters, the limit is {limit}",
                code="too_long",
                field=name,
            )
    if not article.body.strip():
        raise KnowledgeError("'body' is empty", code="empty_field", field="body")
    body_bytes = len(article.body.encode("utf-8"))
    if body_bytes > MAX_BODY_BYTES:
        raise KnowledgeError(
            f"body is {body_bytes} bytes, the limit is {MAX_BODY_BYTES}",
            code="body_too_large",
            field="body",
        )
    bad_intents = [name for name in article.intents if not INTENT_PATTERN.match(name)]
    if bad_intents:
        raise KnowledgeError(
            f"intent name {bad_intents[0]!r} must be lowercase letters, digits "
            "and underscores",
            code="bad_intent",
            field="intents",
        )
    if article.status not in STATUSES:
        raise KnowledgeError(
            f"status must be one of {', '.join(STATUSES)}, got {article.status!r}",
            code="bad_status",
            field="status",
        )
    if article.version < 1:
        raise KnowledgeError(
            f"version must be at least 1, got {article.version}",
            code="bad_version",
            field="version",
        )


class _BlockStyleDumper(yaml.SafeDumper):
    """A safe dumper that writes multi-line text as literal ``|`` blocks."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockStyleDumper.add_representer(str, _represent_text)


def _yaml_text(data: Mapping[str, Any]) -> str:
    return yaml.dump(
        dict(data),
        Dumper=_BlockStyleDumper,
        sort_keys=False,
        allow_unicode=True,
        width=88,
    )


#: libyaml's safe loader when PyYAML has it: the same documents, several times
#: faster (every hub start parses the seed articles).
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, source: str | None) -> Any:
    """Parse YAML, or raise a :class:`KnowledgeError` (``bad_yaml``) naming it."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        pass
    # Not YAML: the Python loader's message also quotes the offending line.
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise KnowledgeError(
            f"not valid YAML: {error}", code="bad_yaml", source=source
        ) from error


def read_yaml(path: str | Path) -> Any:
    """Read and parse a YAML file of the knowledge base's data.

    Raises:
        KnowledgeError: The file cannot be read (``unreadable_file``) or is
            not YAML (``bad_yaml``); the message names the file.
    """
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise KnowledgeError(
            f"cannot read it: {error}", code="unreadable_file", source=str(target)
        ) from error
    return parse_yaml(text, str(target))


def shipped_yaml(name: str) -> Any:
    """Parse a YAML data file shipped in this package (``bot/knowledge/<name>``)."""
    resource = resources.files("bot.knowledge").joinpath(name)
    return parse_yaml(resource.read_text(encoding="utf-8"), f"bot/knowledge/{name}")


def article_from_yaml(text: str, *, source: str | None = None) -> Article:
    """Parse one article from a YAML document.

    Args:
        text: The YAML text.
        source: Where the text came from, quoted in error messages.

    Returns:
        The validated article.

    Raises:
        KnowledgeError: The YAML is malformed or the article is invalid.
    """
    return Article.from_dict(parse_yaml(text, source), source=source)


def article_to_yaml(article: Article) -> str:
    """Serialise an article as a YAML document (multi-line text as ``|`` blocks)."""
    return _yaml_text(article.to_dict())


def article_from_markdown(text: str, *, source: str | None = None) -> Article:
    """Parse one article from Markdown with YAML front matter.

    The text must start with a ``---`` line, followed by the YAML fields other
    than ``body``, a closing ``---`` line, and the body, taken verbatim.

    Args:
        text: The Markdown text.
        source: Where the text came from, quoted in error messages.

    Returns:
        The validated article.

    Raises:
        KnowledgeError: The front matter is missing or malformed, or the article
            is invalid.
    """
    if not text.startswith(FRONT_MATTER_FENCE):
        raise KnowledgeError(
            "Markdown article must start with a '---' front-matter line",
            code="bad_front_matter",
            source=source,
        )
    header, fence, body = text[len(FRONT_MATTER_FENCE) :].partition(
        "\n" + FRONT_MATTER_FENCE
    )
    if not fence:
        raise KnowledgeError(
            "front matter is not closed by a '---' line",
            code="bad_front_matter",
            source=source,
        )
    metadata = parse_yaml(header, source)
    if not isinstance(metadata, Mapping):
        raise KnowledgeError(
            "front matter must be a YAML mapping",
            code="bad_front_matter",
            source=source,
        )
    if "body" in metadata:
        raise KnowledgeError(
            "'body' belongs after the front matter, not inside it",
            code="bad_front_matter",
            field="body",
            source=source,
        )
    return Article.from_dict({**metadata, "body": body}, source=source)


def article_to_markdown(article: Article) -> str:
    """Serialise an article as Markdown with YAML front matter."""
    metadata = article.to_dict()
    body = metadata.pop("body")
    return f"{FRONT_MATTER_FENCE}{_yaml_text(metadata)}{FRONT_MATTER_FENCE}{body}"


def _article_from_file(name: str, text: str, source: str) -> Article:
    if name.endswith(MARKDOWN_SUFFIX):
        article = article_from_markdown(text, source=source)
        stem = name[: -len(MARKDOWN_SUFFIX)]
    else:
        article = article_from_yaml(text, source=source)
        stem = name.rsplit(".", 1)[0]
    if stem != article.slug:
        raise KnowledgeError(
            f"file name {name!r} does not match slug {article.slug!r}",
            code="slug_mismatch",
            field="slug",
            source=source,
        )
    return article


def _is_article_file(name: str) -> bool:
    return name.endswith((*YAML_SUFFIXES, MARKDOWN_SUFFIX)) and not name.startswith(".")


def _load_entries(entries: Iterable[Path | Traversable]) -> list[Article]:
    articles: dict[str, Article] = {}
    for entry in sorted(entries, key=lambda item: item.name):
        if not entry.is_file() or not _is_article_file(entry.name):
            continue
        article = _article_from_file(
            entry.name, entry.read_text(encoding="utf-8"), source=str(entry)
        )
        if article.slug in articles:
            raise KnowledgeError(
                f"slug {article.slug!r} is defined twice",
                code="duplicate_slug",
                field="slug",
                source=str(entry),
            )
        articles[article.slug] = article
    return sorted(articles.values(), key=lambda article: article.slug)


def load_directory(path: str | Path) -> list[Article]:
    """Load every article file (``*.yml``, ``*.yaml``, ``*.md``) in a folder.

    Each file holds one article and is named after its slug.

    Args:
        path: The folder to read (not recursively).

    Returns:
        The articles, sorted by slug.

    Raises:
        KnowledgeError: A file is invalid, is not named after its slug, or two
            files define the same slug; or ``path`` is not a folder.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise KnowledgeError(
            f"{folder} is not a folder", code="not_a_folder", source=str(folder)
        )
    return _load_entries(folder.iterdir())


def load_path(path: str | Path) -> list[Article]:
    """Load the articles of one article file, or of every article file in a folder.

    Args:
        path: A ``*.yml``, ``*.yaml`` or ``*.md`` file named after its slug,
            or a folder of them.

    Returns:
        The articles, sorted by slug.

    Raises:
        KnowledgeError: The path does not exist or is not an article file,
            or an article is invalid (see :func:`load_directory`).
    """
    target = Path(path)
    if target.is_dir():
        return load_directory(target)
    if not target.is_file() or not _is_article_file(target.name):
        raise KnowledgeError(
            f"{target} is neither a folder nor a .yml, .yaml or .md article file",
            code="not_an_article_file",
            source=str(target),
        )
    return _load_entries([target])


def dump_directory(
    articles: Sequence[Article], path: str | Path, *, file_format: FileFormat = "yaml"
) -> list[Path]:
    """Write each article to its own file, ``<slug>.yml`` or ``<slug>.md``.

    The folder is created if needed; existing files of the same names are
    replaced, other files are left alone.

    Args:
        articles: The articles to write.
        path: The target folder.
        file_format: ``yaml`` or ``markdown`` (YAML front matter).

    Returns:
        The paths written, in the order of ``articles``.

    Raises:
        KnowledgeError: Two of the articles share a slug.
    """
    counts = Counter(article.slug for article in articles)
    duplicates = sorted(slug for slug, count in counts.items() if count > 1)
    if duplicates:
        raise KnowledgeError(
            f"slug {duplicates[0]!r} is given twice",
            code="duplicate_slug",
            field="slug",
        )
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for article in articles:
        if file_format == "markdown":
            target = folder / f"{article.slug}{MARKDOWN_SUFFIX}"
            text = article_to_markdown(article)
        else:
            target = folder / f"{article.slug}{YAML_SUFFIXES[0]}"
            text = article_to_yaml(article)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def load_seed() -> list[Article]:
    """Load the seed knowledge base shipped with the package.

    Returns:
        The seed articles, sorted by slug.
    """
    seed = resources.files("bot.knowledge").joinpath("seed")
    return _load_entries(seed.iterdir())

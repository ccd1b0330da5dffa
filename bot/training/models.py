"""Trained models, which one is live, and serving it to Rasa as a model server.

Every model a training job produces is a row of ``nlu_models`` (written by
:class:`~bot.training.jobs.JobRepository`); every deploy and rollback is a
row of ``model_deployments``, written here, and the newest row names the
live model (``NULL``: the model shipped in ``models/``, as ``make model``
trains it). Rasa pulls the live model from the hub (``models:`` in
``endpoints.yml``): it sends the ETag of the model it has as
``If-None-Match`` every ``wait_time_between_pulls`` seconds and gets ``304``
while it is still the live one, or the new file with its ETag, which it
loads while it keeps answering with the old one. So a deploy or a rollback
reaches every Rasa server, whichever hub it asks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import ModelDeployment, NluModel, aware, utcnow
from bot.exceptions import BadRequest, Conflict, NotFound
from bot.training.evaluation import regressions
from bot.training.records import from_row, to_json

model_rows = NluModel.__table__
deployment_rows = ModelDeployment.__table__

#: The model ``make model`` trains (``baton train``).
SHIPPED_MODEL = "baton.tar.gz"
#: Longest override reason kept.
MAX_REASON_CHARS = 2000
#: How many of the newest models' evaluations are searched for a report of
#: the live model to reuse.
EVALUATIONS_LOOKED_AT = 50
#: SHA-256 of shipped model files by path, with the (mtime, size) read.
_shipped_digests: dict[Path, tuple[tuple[int, int], str]] = {}


class ModelNotFound(NotFound):
    """No trained model has this version."""

    code = "model_not_found"


class Regression(Conflict):
    """The candidate is worse than the live model (the regression guard)."""

    code = "regression"


class NotEvaluated(Conflict):
    """The candidate was not evaluated against the model live now."""

    code = "not_evaluated"


class ModelFileMissing(Conflict):
    """The model's file is gone or changed on this hub's disk."""

    code = "model_file_missing"


def shipped_model(model_dir: Path) -> Path | None:
    """The model Rasa starts with: ``models/baton.tar.gz``, else the newest."""
    preferred = model_dir / SHIPPED_MODEL
    if preferred.is_file():
        return preferred
    found = sorted(model_dir.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    return found[-1] if found else None


def file_digest(path: Path) -> str:
    """SHA-256 of a file (remembered while its size and time stay the same)."""
    stat = path.stat()
    key = (stat.st_mtime_ns, stat.st_size)
    known = _shipped_digests.get(path)
    if known is not None and known[0] == key:
        return known[1]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    _shipped_digests[path] = (key, digest.hexdigest())
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelRecord:
    """A trained model as recorded."""

    version: str
    job_id: int | None
    path: str
    sha256: str
    size: int
    fingerprint: str
    metrics: dict[str, Any]
    trained_by: str
    trained_at: dt.datetime

    def public(self) -> dict[str, Any]:
        """The JSON shape in API answers (where its file is is left out)."""
        return to_json(self, leave_out=("path",))


@dataclass(frozen=True)
class Deployed:
    """A deployed model, and the guard's refusal an override reason overrode."""

    model: ModelRecord
    overridden: str | None


@dataclass(frozen=True)
class LiveModel:
    """The model Rasa should run: a file, its ETag, its version (``None``: shipped)."""

    version: str | None
    path: Path
    etag: str


def _model(row: Any) -> ModelRecord:
    return from_row(ModelRecord, row)


class ModelRegistry:
    """Reads the trained models; the one writer of ``model_deployments``."""

    def __init__(self, engine: AsyncEngine, model_dir: Path) -> None:
        self.engine = engine
        self.model_dir = model_dir

    async def get(self, version: str) -> ModelRecord:
        """Return one model.

        Raises:
            ModelNotFound: No model has this version.
        """
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(model_rows).where(model_rows.c.version == version)
                )
            ).first()
        if row is None:
            raise ModelNotFound(f"no trained model {version!r}")
        return _model(row)

    async def history(self) -> list[dict[str, Any]]:
        """Deploys and rollbacks, newest first."""
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(deployment_rows).order_by(deployment_rows.c.id.desc())
                )
            ).all()
        return [
            {
                "version": row.version,
                "action": row.action,
                "override_reason": row.override_reason,
                "deployed_by": row.deployed_by,
                "deployed_at": aware(row.deployed_at).isoformat(),
            }
            for row in rows
        ]

    async def evaluations(
        self, limit: int = EVALUATIONS_LOOKED_AT
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """The newest models' evaluations: (version, SHA-256, evaluation).

        Newest first; a model never evaluated has an empty one.
        """
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(
                        model_rows.c.version, model_rows.c.sha256, model_rows.c.metrics
                    )
                    .order_by(
                        model_rows.c.trained_at.desc(), model_rows.c.version.desc()
                    )
                    .limit(limit)
                )
            ).all()
        return [
            (row.version, row.sha256, (row.metrics or {}).get("evaluation") or {})
            for row in rows
        ]

    async def live_version(self) -> str | None:
        """The live model's version (``None``: the shipped model)."""
        async with self.engine.connect() as connection:
            return await connection.scalar(
                sa.select(deployment_rows.c.version)
                .order_by(deployment_rows.c.id.desc())
                .limit(1)
            )

    async def listing(self) -> dict[str, Any]:
        """Every model, newest first, with which one is live, and the history."""
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(model_rows).order_by(model_rows.c.trained_at.desc())
                )
            ).all()
        live = await self.live_version()
        history = await self.history()
        deployed: dict[str, dict[str, Any]] = {}
        for entry in reversed(history):
            if entry["version"] is not None:
                deployed.setdefault(entry["version"], entry)
        models = []
        for row in rows:
            record = _model(row).public()
            first = deployed.get(row.version)
            record["live"] = row.version == live
            record["deployed_by"] = first["deployed_by"] if first else None
            record["deployed_at"] = first["deployed_at"] if first else None
            record["override_reason"] = first["override_reason"] if first else None
            models.append(record)
        return {"live": live, "models": models, "history": history}

    async def live(self) -> LiveModel | None:
        """The file Rasa should run now, or ``None`` when this hub has none.

        A deployed model's file is where the job that trained it wrote it
        (``var/models`` of that hub): several hubs need that folder shared.
        """
        version = await self.live_version()
        if version is not None:
            record = await self.get(version)
            path = Path(record.path)
            if not path.is_file():
                # Not on this hub's disk: no answer keeps every Rasa server on
                # the model it has, rather than flapping back to the shipped one.
                return None
            return LiveModel(version, path, record.sha256)
        shipped = shipped_model(self.model_dir)
        if shipped is None:
            return None
        return LiveModel(None, shipped, file_digest(shipped))

    async def _record(
        self, version: str | None, action: str, by: str, reason: str | None
    ) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                deployment_rows.insert().values(
                    version=version,
                    action=action,
                    override_reason=reason,
                    deployed_by=by,
                    deployed_at=utcnow(),
                )
            )

    async def usable(self, version: str) -> ModelRecord:
        """Return a model whose file is on this hub's disk, unchanged.

        Raises:
            ModelNotFound, ModelFileMissing.
        """
        record = await self.get(version)
        path = Path(record.path)
        if not path.is_file() or file_digest(path) != record.sha256:
            raise ModelFileMissing(
                f"model {version!r}: its file {path} is missing or changed on "
                "this hub; deploy from the hub that trained it or copy it back"
            )
        return record

    async def guard(self, record: ModelRecord, margin: float) -> None:
        """The regression guard: refuse a candidate worse than the live model.

        Raises:
            NotEvaluated: The model has no evaluation, or it was evaluated
                against another model than the one live now.
            Regression: Its accuracy is below the live model's by more than
                ``margin``, or it fails a test story the live model passes.
        """
        evaluation = record.metrics.get("evaluation")
        again = (
            "evaluate it again (Re-evaluate in the console, or baton evaluate "
            f"{record.version})"
        )
        if not evaluation:
            raise NotEvaluated(
                f"model {record.version!r} was never evaluated against the "
                f"live model; {again}"
            )
        live = await self.live()
        compared = evaluation.get("live")
        if live is not None and (compared is None or compared["sha256"] != live.etag):
            then = (compared or {}).get("version") or "the shipped model"
            now = live.version or "the shipped model"
            raise NotEvaluated(
                f"model {record.version!r} was evaluated against {then}, but "
                f"{now} is live now; {again}"
            )
        found = regressions(evaluation, margin)
        if found:
            raise Regression(
                f"model {record.version!r} is worse than the live model: "
                + "; ".join(found)
                + " (an admin may deploy it anyway with an override reason)"
            )

    async def deploy(
        self,
        version: str,
        *,
        by: str,
        margin: float,
        override_reason: str | None = None,
    ) -> Deployed:
        """Make a trained model the live one, if the regression guard lets it.

        Args:
            version: The model.
            by: Who deploys.
            margin: The regression guard's accuracy margin.
            override_reason: An admin's reason to deploy it whatever the
                guard says (recorded with the deploy).

        Returns:
            The model, and what the guard said when the reason overrode it.

        Raises:
            ModelNotFound, ModelFileMissing, Conflict (``already_live``),
            NotEvaluated, Regression (without an override reason).
        """
        record = await self.usable(version)
        if await self.live_version() == version:
            raise Conflict(f"model {version!r} is live already", code="already_live")
        refused = None
        try:
            await self.guard(record, margin)
        except (NotEvaluated, Regression) as refusal:
            if override_reason is None:
                raise
            refused = refusal.message
        await self._record(version, "deploy", by, override_reason)
        return Deployed(record, refused)

    async def rollback(self, version: str | None, *, by: str) -> str | None:
        """Roll back: take the live model out, or bring an earlier one back.

        Args:
            version: The live model (or ``None``): the model that was live
                before it becomes live again (the shipped model after the
                first deploy); an earlier live model: it becomes live again.
            by: Who rolls back.

        Returns:
            The version now live (``None``: the shipped model).

        Raises:
            ModelNotFound, ModelFileMissing, Conflict (``nothing_to_roll_back``,
            ``not_earlier``).
        """
        live = await self.live_version()
        history = await self.history()
        if version is None or version == live:
            if not history:
                raise Conflict(
                    "nothing was deployed: the shipped model is live",
                    code="nothing_to_roll_back",
                )
            # The model that was live before the live one.
            target = history[1]["version"] if len(history) > 1 else None
        else:
            await self.get(version)  # ModelNotFound
            if version not in {entry["version"] for entry in history}:
                raise Conflict(
                    f"model {version!r} was never live: deploy it instead",
                    code="not_earlier",
                )
            target = version
        if target is not None:
            await self.usable(target)
        await self._record(target, "rollback", by, None)
        return target


def override_reason(value: Any) -> str | None:
    """Validate an admin's override reason (``None`` when absent).

    Raises:
        BadRequest: ``bad_override_reason``: not a non-empty text, or too long.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_REASON_CHARS:
        raise BadRequest(
            f"override_reason must be a text of 1 to {MAX_REASON_CHARS} characters",
            code="bad_override_reason",
        )
    return value.strip()


__all__ = [
    "Deployed",
    "LiveModel",
    "ModelFileMissing",
    "ModelNotFound",
    "ModelRecord",
    "ModelRegistry",
    "NotEvaluated",
    "Regression",
    "file_digest",
    "override_reason",
    "shipped_model",
]

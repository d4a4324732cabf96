"""`outlay model serve`: every company's serving categorizer over the Open Inference Protocol (KServe v2).

    GET  /v2/health/live, /v2/health/ready          the process; the process and its database
    GET  /v2/models/categorize-<slug>                metadata: versions, input and output tensors
    GET  /v2/models/categorize-<slug>/ready          a serving version exists
    POST /v2/models/categorize-<slug>/infer          the serving version (see `remote.py` for tensors)
    POST /v2/models/categorize-<slug>/versions/<n>/infer   a given version

Models are read from the `model_versions` table, so `outlay train` or `outlay model use` on the
database changes what is served at the next request, with no restart. There is no authentication:
bind it to a private network (it serves probabilities, never expense data).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.context import RecentlyUsed
from server.db.models import Company, ModelVersion
from tools.categorize import queries
from tools.categorize.model import Artifact, load
from tools.categorize.remote import TEXT_INPUTS, WireError, decode, outputs

log = logging.getLogger("outlay.model_server")
PREFIX = "categorize-"


class ServedModels:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.loaded = RecentlyUsed()

    async def versions(self, name: str) -> tuple[int, list[int], int | None]:
        """(company id, its versions, the serving one); `LookupError` for an unknown model name."""
        slug = name.removeprefix(PREFIX) if name.startswith(PREFIX) else None
        async with self.sessions() as session:
            company = await session.scalar(select(Company.id).where(Company.slug == slug)) if slug else None
            if company is None:
                raise LookupError(f"no model named {name!r}; models are named {PREFIX}<company slug>")
            rows = await queries.versions(session, company)
        return company, [r.version for r in rows], next((r.version for r in rows if r.serving), None)

    async def artifact(self, name: str, version: int | None) -> tuple[Artifact, int]:
        company, known, serving = await self.versions(name)
        chosen = serving if version is None else version
        if chosen is None or chosen not in known:
            raise LookupError(
                f"{name} has no {'serving version' if version is None else f'version {version}'}"
            )
        async with self.sessions() as session:
            row = await session.scalar(
                select(ModelVersion.id).where(
                    ModelVersion.company_id == company,
                    ModelVersion.kind == queries.KIND,
                    ModelVersion.version == chosen,
                )
            )
            assert row is not None
            cached = self.loaded.get(row)
            if isinstance(cached, Artifact):
                return cached, chosen
            blob = await queries.artifact(session, row)
        if blob is None:
            raise LookupError(f"{name} version {chosen} has no stored model")
        artifact = await anyio.to_thread.run_sync(load, blob)
        self.loaded.put(row, artifact)
        return artifact, chosen


def serving_app(sessions: async_sessionmaker[AsyncSession]) -> Starlette:
    models = ServedModels(sessions)

    async def live(_: Request) -> Response:
        return JSONResponse({"live": True})

    async def ready(_: Request) -> Response:
        try:
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("database unreachable", extra={"error": type(exc).__name__})
            return JSONResponse({"ready": False}, status_code=503)
        return JSONResponse({"ready": True})

    async def metadata(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            _, known, serving = await models.versions(name)
        except LookupError as exc:
            return _error(str(exc), 404)
        return JSONResponse(
            {
                "name": name,
                "versions": [str(v) for v in known],
                "platform": "outlay-categorizer",
                "inputs": [{"name": n, "datatype": "BYTES", "shape": [-1]} for n in TEXT_INPUTS]
                + [{"name": "amount", "datatype": "FP64", "shape": [-1]}],
                "outputs": [
                    {"name": "probabilities", "datatype": "FP32", "shape": [-1, -1]},
                    {"name": "classes", "datatype": "BYTES", "shape": [-1]},
                ],
                "parameters": {"serving_version": serving},
            }
        )

    async def model_ready(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            _, _, serving = await models.versions(name)
        except LookupError as exc:
            return _error(str(exc), 404)
        return JSONResponse({"name": name, "ready": serving is not None}, status_code=200 if serving else 503)

    async def infer(request: Request) -> Response:
        name = request.path_params["name"]
        version = request.path_params.get("version")
        try:
            body: dict[str, Any] = json.loads(await request.body())
            facts = decode(body.get("inputs") or [])
            artifact, served = await models.artifact(name, None if version is None else int(version))
        except LookupError as exc:
            return _error(str(exc), 404)
        except (WireError, ValueError, AttributeError) as exc:
            return _error(f"bad infer request: {exc}", 400)
        tensors = await anyio.to_thread.run_sync(outputs, artifact, facts)
        return JSONResponse(
            {"model_name": name, "model_version": str(served), "id": body.get("id"), "outputs": tensors}
        )

    return Starlette(
        routes=[
            Route("/v2/health/live", live),
            Route("/v2/health/ready", ready),
            Route("/v2/models/{name}", metadata),
            Route("/v2/models/{name}/ready", model_ready),
            Route("/v2/models/{name}/infer", infer, methods=["POST"]),
            Route("/v2/models/{name}/versions/{version:int}/infer", infer, methods=["POST"]),
        ]
    )


def _error(message: str, status: int) -> Response:
    return JSONResponse({"error": message}, status_code=status)

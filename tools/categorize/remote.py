"""The company model over the Open Inference Protocol (KServe v2): the wire format both sides share.

    POST /v2/models/categorize-<company slug>/infer
    inputs   descriptor, merchant, mcc, memo, team   BYTES [n]   ("" when unknown)
             amount                                  FP64  [n]   company currency, major units
             parents, cost_center, project,          BYTES [n]   optional: the teams above `team`
             dimensions                                          (JSON list, nearest first), the
                                                                 expense's cost centre and project, its
                                                                 free dimensions (JSON object)
    outputs  probabilities                           FP32  [n, k] calibrated, rows sum to 1
             classes                                 BYTES [k]   the category codes, in column order

`outlay model serve` answers it (`serving.py`); with `OUTLAY_CATEGORIZE_MODEL=remote` the categorizer
asks it through the model gateway instead of scoring in process, so an ML team can ship a model of its
own behind the same contract.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from server.gateway import InferResponse, ModelGateway, Tensor
from tools.categorize.features import ExpenseFacts
from tools.categorize.model import Artifact
from tools.categorize.pipeline import Scores

TEXT_INPUTS = ("descriptor", "merchant", "mcc", "memo", "team")
# Added with the dimensions: a client of the first contract leaves them out, and they count as empty.
OPTIONAL_INPUTS = ("parents", "cost_center", "project", "dimensions")


class WireError(ValueError):
    """A request or response that does not follow the contract above."""


def model_name(company_slug: str) -> str:
    return f"categorize-{company_slug}"


def encode(facts: Sequence[ExpenseFacts]) -> list[Tensor]:
    n = len(facts)
    tensors = [
        Tensor(name=name, shape=[n], datatype="BYTES", data=[getattr(f, name) or "" for f in facts])
        for name in TEXT_INPUTS
    ]
    tensors.append(Tensor(name="amount", shape=[n], datatype="FP64", data=[f.amount for f in facts]))
    optional = {
        "parents": [json.dumps(list(f.parents)) for f in facts],
        "cost_center": [f.cost_center or "" for f in facts],
        "project": [f.project or "" for f in facts],
        "dimensions": [json.dumps(dict(f.dims)) for f in facts],
    }
    tensors += [Tensor(name=name, shape=[n], datatype="BYTES", data=data) for name, data in optional.items()]
    return tensors


def decode(inputs: Sequence[Mapping[str, Any]]) -> list[ExpenseFacts]:
    """The facts of an infer request's `inputs` (as JSON), or `WireError`."""
    by_name = {str(t.get("name")): t for t in inputs}
    missing = [name for name in (*TEXT_INPUTS, "amount") if name not in by_name]
    if missing:
        raise WireError(f"missing input tensor(s): {', '.join(missing)}")
    columns = {name: list(by_name[name].get("data") or []) for name in (*TEXT_INPUTS, "amount")}
    sizes = {len(column) for column in columns.values()}
    if len(sizes) != 1:
        raise WireError("input tensors differ in length")
    n = sizes.pop()
    for name in OPTIONAL_INPUTS:
        columns[name] = list(by_name[name].get("data") or []) if name in by_name else [""] * n
        if len(columns[name]) != n:
            raise WireError("input tensors differ in length")
    try:
        amounts = [float(a) for a in columns["amount"]]
    except (TypeError, ValueError):
        raise WireError("amount must be numbers") from None
    return [_facts(columns, amounts, i) for i in range(n)]


def _facts(columns: Mapping[str, list[Any]], amounts: list[float], i: int) -> ExpenseFacts:
    def text(name: str) -> str | None:
        return str(columns[name][i]) or None

    try:
        parents = tuple(str(p) for p in json.loads(text("parents") or "[]"))
        dims = tuple(sorted((str(k), str(v)) for k, v in json.loads(text("dimensions") or "{}").items()))
    except (ValueError, AttributeError, TypeError):
        raise WireError("parents must be JSON lists and dimensions JSON objects") from None
    return ExpenseFacts(
        descriptor=str(columns["descriptor"][i]),
        merchant=text("merchant"),
        mcc=text("mcc"),
        memo=text("memo"),
        amount=amounts[i],
        team=text("team"),
        parents=parents,
        cost_center=text("cost_center"),
        project=text("project"),
        dims=dims,
    )


def outputs(artifact: Artifact, facts: Sequence[ExpenseFacts]) -> list[dict[str, Any]]:
    """What the server answers: the artifact's calibrated probabilities, and its classes."""
    matrix = artifact.predict(facts)[0] if facts else np.zeros((0, 0))
    k = len(artifact.classes)
    return [
        {
            "name": "probabilities",
            "datatype": "FP32",
            "shape": [len(facts), k],
            "data": [round(float(p), 6) for p in matrix.ravel()],
        },
        {"name": "classes", "datatype": "BYTES", "shape": [k], "data": list(artifact.classes)},
    ]


async def probabilities(
    gateway: ModelGateway, company_slug: str, artifact: Artifact, facts: Sequence[ExpenseFacts]
) -> Scores:
    """Ask the model server; raises a `GatewayError` (or `WireError`, a kind of it for callers) when it
    gives no usable answer."""
    response = await gateway.infer(model_name(company_slug), encode(facts), company=company_slug)
    return scores(response, len(facts))


def scores(response: InferResponse, rows: int) -> Scores:
    try:
        classes = [str(c) for c in response.output("classes").data]
        matrix = np.asarray(response.output("probabilities").data, dtype=np.float64)
        return Scores(classes, matrix.reshape(rows, len(classes)))
    except (KeyError, ValueError) as exc:
        raise WireError(f"the model server's answer does not follow the contract: {exc}") from None

"""The arguments a spend request is described with, shared by suggest_approver and
submit_spend_request so that both describe them alike."""

# No `from __future__ import annotations`: the SDK evaluates these types to build the schemas.
from typing import Annotated

from pydantic import Field

from tools.approvers.schemas import PaymentTypeName

Currency = Annotated[
    str | None, Field(description="ISO 4217 code, e.g. 'USD'; default: the company currency.")
]
Category = Annotated[
    str | None, Field(description="Expense category code or name, e.g. 'SOFTWARE' or 'Software'.")
]
Team = Annotated[str | None, Field(description="Team to charge, by name; default: the requester's team.")]
PaymentType = Annotated[PaymentTypeName | None, Field(description="How it will be paid; default 'card'.")]

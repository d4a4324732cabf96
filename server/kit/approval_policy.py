"""The approval policy document (`approval_policy.json`, docs/data-format.md): typed and validated.

A policy is a list of rules. A rule applies to a spend request when all of its `when` conditions hold,
and adds its `steps` to the approval chain. Steps are written as strings in JSON and parsed into the
`Step` types below, so the approval engine can `match` on them:

    team_manager            TeamManager()
    manager_of:<step>       ManagerOf(of=<step>)      the manager of whoever <step> resolves to
    cost_center_owner       CostCenterOwner()
    finance_team            FinanceTeam()
    role:<role>             RoleStep(role="it_lead")
    employee:<email>        EmployeeStep(email="ana@example.com")

`str(step)` gives back the JSON form, and `model_dump(mode="json")` the JSON document.

Besides its rules, a policy carries the controls a controller expects (`controls`, on by default
where that is safe) and a rule may ask for a number of different signers (`min_distinct_approvers`);
docs/approval-policy.md says exactly what each does.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeAlias, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from server.db.values import PaymentType

ROLE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
STEP_FORMS = (
    "team_manager, manager_of:<step>, cost_center_owner, finance_team, role:<role> or employee:<email>"
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TeamManager(_Frozen):
    """The manager of the team the spend is charged to."""

    kind: Literal["team_manager"] = "team_manager"

    def __str__(self) -> str:
        return "team_manager"


class ManagerOf(_Frozen):
    """The line manager of whoever `of` resolves to (e.g. the team manager's manager)."""

    kind: Literal["manager_of"] = "manager_of"
    of: Step

    def __str__(self) -> str:
        return f"manager_of:{self.of}"


class CostCenterOwner(_Frozen):
    """The owner of the cost center the spend is charged to."""

    kind: Literal["cost_center_owner"] = "cost_center_owner"

    def __str__(self) -> str:
        return "cost_center_owner"


class FinanceTeam(_Frozen):
    """Anyone in the finance team."""

    kind: Literal["finance_team"] = "finance_team"

    def __str__(self) -> str:
        return "finance_team"


class RoleStep(_Frozen):
    """Someone with this role (`employees.csv` `role`)."""

    kind: Literal["role"] = "role"
    role: str

    def __str__(self) -> str:
        return f"role:{self.role}"


class EmployeeStep(_Frozen):
    """One named person, by e-mail (lower case)."""

    kind: Literal["employee"] = "employee"
    email: str

    def __str__(self) -> str:
        return f"employee:{self.email}"


Step: TypeAlias = Annotated[
    TeamManager | ManagerOf | CostCenterOwner | FinanceTeam | RoleStep | EmployeeStep,
    Field(discriminator="kind"),
]
ManagerOf.model_rebuild()
_SIMPLE_STEPS: dict[str, Step] = {
    "team_manager": TeamManager(),
    "cost_center_owner": CostCenterOwner(),
    "finance_team": FinanceTeam(),
}


def _error(kind: str, message: str) -> PydanticCustomError:
    # The message is passed as context so that braces in user text are not read as placeholders.
    return PydanticCustomError(kind, "{message}", {"message": message})


def parse_step(text: str) -> Step:
    """Parse the JSON form of a step; raises a pydantic error whose message names the bad part."""
    return _parse_step(text, whole=text)


def _parse_step(text: str, *, whole: str) -> Step:
    if text in _SIMPLE_STEPS:
        return _SIMPLE_STEPS[text]
    kind, separator, argument = text.partition(":")
    if separator and kind == "manager_of":
        return ManagerOf(of=_parse_step(argument, whole=whole))
    if separator and kind == "role":
        if not ROLE_PATTERN.fullmatch(argument):
            raise _error("step", f"role {argument!r} in step {whole!r} is not lower snake case")
        return RoleStep(role=argument)
    if separator and kind == "employee":
        if not EMAIL_PATTERN.fullmatch(argument):
            raise _error("step", f"{argument!r} in step {whole!r} is not an e-mail address")
        return EmployeeStep(email=argument.lower())
    where = "" if text == whole else f" in {whole!r}"
    raise _error("step", f"unknown step {text!r}{where}; expected {STEP_FORMS}")


def _step_from_json(value: Any) -> Any:
    if isinstance(value, str):
        return parse_step(value)
    if isinstance(value, BaseModel):  # already parsed (a Policy built in code)
        return value
    raise _error("step_type", "a step must be a string such as 'team_manager'")


StepText = Annotated[
    Step,
    BeforeValidator(_step_from_json),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "description": f"one of: {STEP_FORMS}"}),
]


def _amount_from_json(value: Any) -> Any:
    """Amounts are decimal strings: a JSON number would go through binary floating point."""
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d+(\.\d+)?", value):
        raise _error("amount", 'must be a non-negative decimal string such as "5000" or "249.99"')
    return Decimal(value)


Amount = Annotated[
    Decimal,
    BeforeValidator(_amount_from_json),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d+)?$"}),
]


def _role(value: str) -> str:
    if not ROLE_PATTERN.fullmatch(value):
        raise _error("role", f"role {value!r} is not lower snake case (e.g. 'it_lead')")
    return value


def _not_empty(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # An after-validator rather than min_length, so a list whose items failed is not also "too short".
    if not values:
        raise _error("empty", "must list at least one value (leave the key out to not filter)")
    return values


T = TypeVar("T")
Role = Annotated[str, AfterValidator(_role)]
NonEmpty = Annotated[tuple[T, ...], AfterValidator(_not_empty)]


class Conditions(_Frozen):
    """All given conditions must hold; none given means the rule always applies."""

    amount_over: Amount | None = Field(default=None, description="company-currency amount, exclusive")
    amount_at_least: Amount | None = Field(default=None, description="company-currency amount, inclusive")
    category_in: NonEmpty[str] | None = Field(default=None, description="category codes")
    team_in: NonEmpty[str] | None = Field(default=None, description="team names")
    requester_role_in: NonEmpty[Role] | None = None
    payment_type_in: NonEmpty[PaymentType] | None = None


def _not_empty_steps(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    if not steps:
        raise _error("empty", "a rule needs at least one step")
    texts = [str(step) for step in steps]
    for position, text in enumerate(texts):
        if text in texts[:position]:  # surely a typo: the same approval cannot be asked twice
            raise _error("duplicate_step", f"steps[{position}] repeats {text!r} (steps[{texts.index(text)}])")
    return steps


def _signers_from_json(value: Any) -> Any:
    # A JSON `true` would pass as 1 and "3" as 3 in pydantic's lax mode: a count is a whole number.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _error("signers", "must be a whole number of at least 1, such as 3")
    return value


Signers = Annotated[
    int, BeforeValidator(_signers_from_json), WithJsonSchema({"type": "integer", "minimum": 1})
]


class Rule(_Frozen):
    name: str = Field(min_length=1, max_length=200)
    when: Conditions = Conditions()
    steps: Annotated[tuple[StepText, ...], AfterValidator(_not_empty_steps)]
    min_distinct_approvers: Signers | None = Field(
        default=None,
        description="when this rule applies, the chain needs at least this many different people signing",
    )


class Controls(_Frozen):
    """Controls over who may sign, whatever the rules name. Both are on unless the policy turns them off."""

    no_approval_from_below: StrictBool = Field(
        default=True, description="nobody below the requester in their reporting line approves their spend"
    )
    delegate_covers_own_step_only: StrictBool = Field(
        default=True,
        description="a delegate's signature for an absent person covers that person's own step only",
    )


class Policy(_Frozen):
    """The policy in force: rules are evaluated in order and each applying rule adds its steps."""

    rules: tuple[Rule, ...]
    controls: Controls = Controls()

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        first: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if rule.name in first:
                message = f"rule name {rule.name!r} is used by rules[{first[rule.name]}] and rules[{index}]"
                raise _error("duplicate_rule", message)
            first[rule.name] = index
        return rules


def distinct_steps(policy: Policy) -> int:
    """How many different steps the policy has: the most signers any chain under it can have."""
    return len({str(step) for rule in policy.rules for step in rule.steps})


def nested_steps(step: Step) -> list[Step]:
    """A step and the steps inside it, innermost last: `manager_of:role:cfo` → [ManagerOf, RoleStep]."""
    return [step, *nested_steps(step.of)] if isinstance(step, ManagerOf) else [step]

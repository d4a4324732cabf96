"""The expense policy document (`expense_policy.json`, docs/data-format.md): typed and validated.

What a finance team expects every expense to respect, checked by `review_expenses` (docs/review.md).
A policy is a list of rules, each of one `kind`, plus the settings of the statistical patterns the
review looks for with or without a policy:

    receipt_required      a receipt above an amount (optionally only in some categories)
    cap                   at most an amount per expense or per person per day, per category, with
                          per-country amounts (the country where the expense was spent)
    blocked               merchant category codes and merchant names that must not be paid at all
    weekend_spend         spend on a Saturday, Sunday or public holiday (the company's country)
                          in categories that should have none
    keywords              flagged words in the statement descriptor or memo (alcohol, gifts, ...)
    just_below_threshold  amounts just under an approval threshold (by default the approval policy's)

Amounts are decimal strings in the policy's `currency` (the company currency when not given); caps in
another currency need an exchange rate of the company (fx_rates.csv), which the import checks.
`model_dump(mode="json")` gives back the JSON document.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, field_validator

from server.kit.approval_policy import Amount, NonEmpty, _error, _Frozen

Severity: TypeAlias = Literal["high", "medium", "low"]
RULE_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


def _not_negative(value: Any) -> Any:
    # Before Amount's own check, whose message ("a non-negative decimal string") reads oddly for "-5".
    if isinstance(value, str) and value.strip().startswith("-"):
        raise _error("amount", f'must be more than 0, not {value!r} (a decimal string such as "60")')
    return value


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise _error("amount", "must be more than 0")
    return value


Positive = Annotated[Amount, BeforeValidator(_not_negative), AfterValidator(_positive)]
Days = Annotated[int, Field(ge=1, le=366, strict=True)]
MCC = Annotated[str, Field(pattern=r"^\d{4}$")]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class _Rule(_Frozen):
    id: str = Field(pattern=RULE_ID, description="the rule's name in findings: lower case, unique")
    severity: Severity | None = Field(default=None, description="default: each kind's own")
    categories: NonEmpty[str] | None = Field(default=None, description="category codes; none: every one")
    description: str | None = Field(default=None, max_length=500, description="the clause, as written")


class ReceiptRequired(_Rule):
    kind: Literal["receipt_required"]
    above: Amount = Field(description="a receipt is required when the amount is more than this")


class Cap(_Rule):
    kind: Literal["cap"]
    per: Literal["expense", "day"] = Field(
        description="expense: each expense; day: one person's (or, without one, one card's) total of a day"
    )
    amount: Positive
    countries: dict[Country, Positive] = Field(
        default_factory=dict, description="the cap where the expense was spent, instead of `amount`"
    )


class Blocked(_Rule):
    kind: Literal["blocked"]
    mccs: tuple[MCC, ...] = ()
    merchants: tuple[Annotated[str, Field(min_length=2)], ...] = Field(
        default=(), description="merchant names or parts of names, compared without case"
    )


class WeekendSpend(_Rule):
    kind: Literal["weekend_spend"]
    holidays: StrictBool = Field(default=True, description="public holidays of the company's country too")


class Keywords(_Rule):
    kind: Literal["keywords"]
    keywords: NonEmpty[Annotated[str, Field(min_length=2)]] = Field(
        description="whole words, compared without case, in the descriptor or the memo"
    )


class JustBelowThreshold(_Rule):
    kind: Literal["just_below_threshold"]
    thresholds: tuple[Positive, ...] | None = Field(
        default=None, description="default: the amount conditions of the approval policy in force"
    )
    margin_percent: Positive = Field(
        default=Decimal(5), description="flag amounts from (100 - margin)% of a threshold up to it"
    )


Rule: TypeAlias = Annotated[
    ReceiptRequired | Cap | Blocked | WeekendSpend | Keywords | JustBelowThreshold,
    Field(discriminator="kind"),
]


class Duplicates(_Frozen):
    enabled: StrictBool = True
    window_days: Days = Field(default=3, description="same merchant and amount within this many days")


class SplitPurchases(_Frozen):
    enabled: StrictBool = True
    window_days: Days = Field(default=3, description="charges at one merchant within this many days")
    thresholds: tuple[Positive, ...] | None = Field(
        default=None, description="default: the amount conditions of the approval policy in force"
    )
    card_limit: Positive | None = Field(default=None, description="a single-transaction card limit")


class Spikes(_Frozen):
    enabled: StrictBool = True
    min_history: Annotated[int, Field(ge=3, strict=True)] = Field(
        default=8, description="earlier expenses of the employee (or team) in the category needed"
    )
    factor: Positive = Field(default=Decimal(5), description="flag above this many times the usual amount")


class NewMerchant(_Frozen):
    enabled: StrictBool = True
    first_charge_above: Positive = Field(
        default=Decimal(1000), description="a merchant's first charge to the company above this"
    )


class RoundNumbers(_Frozen):
    enabled: StrictBool = True
    multiple: Positive = Field(default=Decimal(50), description="amounts that are a multiple of this")
    min_run: Annotated[int, Field(ge=2, strict=True)] = Field(
        default=3, description="by one person (or card) at one merchant within `window_days`"
    )
    window_days: Days = 30


class Refunds(_Frozen):
    enabled: StrictBool = True
    lookback_days: Days = Field(default=120, description="where to look for the original charge")


class Patterns(_Frozen):
    """The statistical patterns the review looks for, with or without a policy: all on by default."""

    duplicates: Duplicates = Duplicates()
    split_purchases: SplitPurchases = SplitPurchases()
    spikes: Spikes = Spikes()
    new_merchant: NewMerchant = NewMerchant()
    round_numbers: RoundNumbers = RoundNumbers()
    refunds: Refunds = Refunds()


class ExpensePolicy(_Frozen):
    """The expense policy in force: every rule is checked against every expense in a review's scope."""

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = Field(
        default=None, description="the currency of the policy's amounts; default: the company currency"
    )
    rules: tuple[Rule, ...] = ()
    patterns: Patterns = Patterns()

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        first: dict[str, int] = {}
        for index, rule in enumerate(rules):
            if rule.id in first:
                raise _error(
                    "duplicate_rule",
                    f"rule id {rule.id!r} is used by rules[{first[rule.id]}] and rules[{index}]",
                )
            first[rule.id] = index
        return rules


NO_POLICY = ExpensePolicy()  # a company without expense_policy.json: the patterns only

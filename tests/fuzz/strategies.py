"""Tool arguments for the fuzz tests, drawn from each tool's own input schema (as `tools/list` gives it to
a client), mixed with the kinds of bad input issue 19's probes found: NUL characters, text far past any
limit, days and periods outside what the server handles, amounts past int64 or Decimal's precision,
wrong JSON types, made-up argument names.

(hypothesis-jsonschema would draw the valid half, but its last release, 0.23.1, fails on the installed
hypothesis; the schemas here use a handful of keywords, covered below.)"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.world import TEAM_NAMES

Json = dict[str, Any]

# Values the seeded world answers to, so that valid calls reach past the lookups into the tools' logic.
KNOWN_TEXT = [*TEAM_NAMES, "TRAVEL", "Software", "Ann Lee", "eve", "Uber", "EXP-000001", "EXP-000050"]
HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "x" * 100_000,
    "%_%",
    "' OR 1=1 --",
    "9999-12-31",
    "0001-01-01",
    "0000",
    "9999-Q4",
    "2026-13",
    "yesterday",
    "9223372036854775807",
    "1" + "0" * 29,
    "1.000000000000000000000000000001",
    "-0",
    "NaN",
    "Infinity",
    "1e309",
    "\u202egnp.exe",
    "\ud7ff\ue000",
    "EXP-999999",
    "APR-00042",
    "dim:",
]
HOSTILE_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.sampled_from(HOSTILE_TEXT), max_size=3),
    st.dictionaries(st.text(max_size=4), st.sampled_from(HOSTILE_TEXT), max_size=2),
    st.recursive(st.none(), lambda inner: st.lists(inner, max_size=2), max_leaves=30),
)
MADE_UP_NAMES = ["merchant_text", "company_id", "company", "tenant", "\x00", "", "limit ", "Team"]


def value_of(schema: Json) -> st.SearchStrategy[Any]:
    """Values the schema accepts (near enough: `pattern`, `format: date`, bounds, `enum`, arrays)."""
    if "anyOf" in schema:
        return st.one_of([value_of(option) for option in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kinds = schema.get("type", "string")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return st.one_of([_value_of_type(kind, schema) for kind in kinds])


def _value_of_type(kind: str, schema: Json) -> st.SearchStrategy[Any]:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum", -10), schema.get("maximum", 2_000))
    if kind == "number":
        return st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 2))
    if kind == "array":
        return st.lists(value_of(schema.get("items", {})), max_size=min(schema.get("maxItems", 5), 5))
    if kind == "object":
        return st.dictionaries(
            st.sampled_from(["fund", "project", "x"]), st.sampled_from(KNOWN_TEXT), max_size=2
        )
    if schema.get("format") == "date":
        return st.dates().map(lambda day: day.isoformat())
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda text: len(text) < 40)
    longest = schema.get("maxLength", 60)
    return st.one_of(
        st.sampled_from([text for text in KNOWN_TEXT if len(text) <= longest]),
        st.text(min_size=schema.get("minLength", 0), max_size=min(longest, 60)),
    )


def valid_arguments(schema: Json) -> st.SearchStrategy[Json]:
    """The required arguments and any of the optional ones, each a value its schema accepts."""
    properties: Json = schema.get("properties", {})
    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: value_of(properties[name]) for name in properties if name in required},
        optional={name: value_of(properties[name]) for name in properties if name not in required},
    )


def arguments(schema: Json) -> st.SearchStrategy[Json]:
    """Valid arguments, or valid ones with one or two replaced or added: a hostile value under a real
    argument name, or any value under a made-up name."""
    names = st.sampled_from([*schema.get("properties", {}), *MADE_UP_NAMES]) | st.text(max_size=12)
    changes = st.lists(st.tuples(names, HOSTILE_VALUES), min_size=1, max_size=2)
    valid = valid_arguments(schema)
    return valid | st.builds(lambda base, extra: {**base, **dict(extra)}, valid, changes)


def raw_arguments(schema: Json) -> st.SearchStrategy[Any]:
    """What an HTTP caller can send as `arguments`: mostly an object, sometimes not one at all."""
    return arguments(schema) | HOSTILE_VALUES

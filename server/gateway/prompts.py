"""LLM prompt templates: one file per template under `prompts/templates/`, versioned by content hash.

A template file has a `[system]` section and a `[user]` section; `$name` marks an input
(`string.Template` syntax, `$$` for a literal dollar sign):

    [system]
    You sort company expenses into the company's own categories.
    [user]
    Statement descriptor: $descriptor

The hash is over the file's bytes, so any edit, even of whitespace, is a new version, and every answer
says which version produced it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from server.gateway.errors import PromptError

_SECTION = re.compile(r"^\[(system|user)\][ \t]*$", re.MULTILINE)
_SUFFIX = ".md"


@dataclass(frozen=True)
class Rendered:
    system: str
    user: str


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    hash: str
    system: Template
    user: Template

    @classmethod
    def parse(cls, name: str, content: bytes) -> PromptTemplate:
        text = content.decode("utf-8")
        parts = _SECTION.split(text)
        # split() gives [before, "system", body, "user", body]: exactly one of each, in that order.
        if len(parts) != 5 or parts[1::2] != ["system", "user"] or parts[0].strip():
            raise PromptError(f"template {name!r} needs a [system] section, then a [user] section")
        digest = hashlib.sha256(content).hexdigest()[:16]
        return cls(name, digest, Template(parts[2].strip()), Template(parts[4].strip()))

    @property
    def inputs(self) -> frozenset[str]:
        return frozenset(self.system.get_identifiers()) | frozenset(self.user.get_identifiers())

    def render(self, inputs: dict[str, str]) -> Rendered:
        missing, unknown = self.inputs - inputs.keys(), inputs.keys() - self.inputs
        if missing or unknown:
            raise PromptError(
                f"template {self.name!r} takes {sorted(self.inputs)}; "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        return Rendered(self.system.substitute(inputs), self.user.substitute(inputs))


class PromptLibrary:
    """Templates by name (the file name without `.md`), read once and kept."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._loaded: dict[str, PromptTemplate] = {}

    def get(self, name: str) -> PromptTemplate:
        if name not in self._loaded:
            self._loaded[name] = self._load(name)
        return self._loaded[name]

    def _load(self, name: str) -> PromptTemplate:
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise PromptError(f"template names are lower_snake_case, not {name!r}")
        path = self._directory / f"{name}{_SUFFIX}"
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise PromptError(f"no prompt template {name!r} in {self._directory}") from None
        return PromptTemplate.parse(name, content)

    def names(self) -> list[str]:
        return sorted(path.stem for path in self._directory.glob(f"*{_SUFFIX}"))

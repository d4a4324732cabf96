"""Prompt templates: files with a system and a user section, versioned by the hash of their bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.gateway import PromptError
from server.gateway.prompts import PromptLibrary, PromptTemplate, Rendered
from server.settings.gateway import DEFAULT_PROMPTS_DIR

TEXT = b"[system]\nYou price things in $$.\n[user]\nItem: $item\nShop: ${shop}\n"


def test_a_template_renders_its_sections() -> None:
    template = PromptTemplate.parse("price", TEXT)

    assert template.inputs == {"item", "shop"}
    assert template.render({"item": "pen", "shop": "Muji"}) == Rendered(
        "You price things in $.", "Item: pen\nShop: Muji"
    )


def test_the_version_is_the_hash_of_the_bytes() -> None:
    one = PromptTemplate.parse("price", TEXT)
    same = PromptTemplate.parse("price", TEXT)
    edited = PromptTemplate.parse("price", TEXT.replace(b"Item:", b"Item: "))

    assert one.hash == same.hash
    assert edited.hash != one.hash
    assert len(one.hash) == 16


@pytest.mark.parametrize(
    "text",
    [
        b"Item: $item",
        b"[user]\nItem\n[system]\nYou\n",
        b"intro\n[system]\nYou\n[user]\nItem\n",
        b"[system]\nx\n",
    ],
)
def test_a_template_needs_a_system_then_a_user_section(text: bytes) -> None:
    with pytest.raises(PromptError, match=r"\[system\] section, then a \[user\] section"):
        PromptTemplate.parse("bad", text)


def test_rendering_takes_exactly_the_template_inputs() -> None:
    template = PromptTemplate.parse("price", TEXT)

    with pytest.raises(PromptError, match=r"missing \['shop'\], unknown \['colour'\]"):
        template.render({"item": "pen", "colour": "red"})


def test_the_library_reads_templates_by_name_from_its_folder(tmp_path: Path) -> None:
    (tmp_path / "price.md").write_bytes(TEXT)
    library = PromptLibrary(tmp_path)

    assert library.names() == ["price"]
    assert library.get("price").hash == PromptTemplate.parse("price", TEXT).hash
    with pytest.raises(PromptError, match="lower_snake_case"):
        library.get("../secrets")
    with pytest.raises(PromptError, match="no prompt template 'cost'"):
        library.get("cost")


def test_the_shipped_templates_are_well_formed() -> None:
    library = PromptLibrary(DEFAULT_PROMPTS_DIR)

    assert "categorize_expense" in library.names()
    for name in library.names():
        assert library.get(name).inputs, name

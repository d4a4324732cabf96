"""server/progress.py: a bar on a terminal, plain lines elsewhere, nothing on stdout."""

from __future__ import annotations

import io
import re

import pytest

from server import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def plain(stream: io.StringIO) -> list[str]:
    return [re.sub(r", \d+ s", ", N s", line) for line in stream.getvalue().splitlines()]


def test_plain_lines_at_each_tenth_and_none_in_between() -> None:
    stream = io.StringIO()

    with progress.progress("import: expenses written", total=40, stream=stream) as shown:
        for _ in range(40):
            shown.advance()

    lines = plain(stream)
    assert len(lines) == 10
    assert lines[0] == "import: expenses written: 4/40 (10%), N s"
    assert lines[-1] == "import: expenses written: 40/40 (100%), N s"


def test_a_step_with_no_total_says_it_still_runs_then_that_it_is_done() -> None:
    stream = io.StringIO()

    with progress.progress("train: the categorizer", stream=stream, every=0.05) as shown:
        shown.tick()  # as the ticker thread does once `every` has passed
        while not stream.getvalue():
            shown.tick()

    lines = plain(stream)
    assert lines[0] == "train: the categorizer: running, N s"
    assert lines[-1] == "train: the categorizer: running, N s, done"


def test_a_quick_step_says_nothing_and_a_failed_one_no_done_line() -> None:
    quick, failed = io.StringIO(), io.StringIO()

    def fail_halfway() -> None:
        with progress.progress("import", total=10, stream=failed) as shown:
            shown.advance(5)
            raise LookupError("expenses.csv:3: team: no such team")

    with progress.progress("train: the categorizer", stream=quick):
        pass
    with pytest.raises(LookupError, match="no such team"):
        fail_halfway()

    assert quick.getvalue() == ""
    assert plain(failed) == ["import: 5/10 (50%), N s"]


def test_code_deep_in_a_call_advances_the_current_progress() -> None:
    stream = io.StringIO()

    with progress.progress("import: expenses written", total=2500, stream=stream) as shown:
        rows = list(progress.counted(range(2500), every=1000))

    assert (rows, shown.done) == (list(range(2500)), 2500)
    assert progress.current() is None
    assert plain(stream)[-1] == "import: expenses written: 2,500/2,500 (100%), N s"


def test_a_terminal_gets_a_bar() -> None:
    stream = Terminal()

    for _ in progress.track(range(6), "demo: months written", stream=stream):
        pass

    assert "demo: months written: 100%|" in stream.getvalue()
    assert "| 6/6 [" in stream.getvalue()

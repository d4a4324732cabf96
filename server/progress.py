"""Progress of a long command (demo, import, train, eval, bench) on stderr, never on stdout (over stdio,
stdout is the protocol; elsewhere it is the command's result).

On a terminal: a bar (tqdm). Elsewhere (a pipe, a log file, CI): a plain line at each tenth of the way
and at least every `every` seconds, so that a log shows the command is alive without a line per step.
With no total (a model fitting, a benchmark section), a line every `every` seconds says it still runs.

    with progress("demo: months", total=24) as bar:
        for month in months:
            ...
            bar.advance()
    for month in track(months, "demo: months"): ...

`current()` is the innermost progress of this context, for code deep in a call (the importer's row
writer) that should report without taking a parameter for it.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol, TextIO, TypeVar

T = TypeVar("T")
EVERY_SECONDS = 5.0
_current: ContextVar[Progress | None] = ContextVar("outlay_progress", default=None)


class Progress:
    """Steps done out of `total` (None: unknown), drawn by a bar or told by plain lines."""

    def __init__(self, label: str, total: int | None, stream: TextIO, every: float) -> None:
        self.label, self.total, self.done = label, total, 0
        self._stream, self._every = stream, every
        self._started = self._last_line = time.monotonic()
        self._last_tenth = 0
        self._lock = threading.Lock()
        self._closed = False
        self._told: int | None = None  # steps done at the last plain line
        self.bar = _bar(label, total, stream) if _is_terminal(stream) else None

    def advance(self, steps: int = 1) -> None:
        with self._lock:
            self.done += steps
            if self.bar is not None:
                self.bar.update(steps)
                return
            tenth = self._tenth()
            if tenth > self._last_tenth or time.monotonic() - self._last_line >= self._every:
                self._last_tenth = max(tenth, self._last_tenth)
                self._line()

    def note(self, message: str) -> None:
        """A line of its own (a finished trial, say), above the bar on a terminal."""
        if self.bar is not None:
            self.bar.write(message, file=self._stream)
        else:
            print(message, file=self._stream, flush=True)

    def tick(self) -> None:
        """Called every `every` seconds while the step runs: a line when no step said anything."""
        with self._lock:
            if self._closed:
                return
            if self.bar is not None:
                self.bar.refresh()
            elif time.monotonic() - self._last_line >= self._every:
                self._line()

    def close(self, *, finished: bool = True) -> None:
        self._closed = True
        if self.bar is not None:
            self.bar.close()
        elif finished and self._told is not None and (self.total is None or self._told < self.done):
            self._line(done=True)  # how it ended, when a line said it had started and none said this

    def _tenth(self) -> int:
        return 0 if not self.total else min(10, self.done * 10 // self.total)

    def _line(self, *, done: bool = False) -> None:
        self._last_line = now = time.monotonic()
        self._told = self.done
        seconds = f"{now - self._started:.0f} s"
        if self.total:
            state = f"{self.done:,}/{self.total:,} ({min(100, self.done * 100 // self.total)}%)"
        else:
            state = f"{self.done:,}" if self.done else "running"
        finished = ", done" if done else ""
        print(f"{self.label}: {state}, {seconds}{finished}", file=self._stream, flush=True)


@contextmanager
def progress(
    label: str, total: int | None = None, *, stream: TextIO | None = None, every: float = EVERY_SECONDS
) -> Iterator[Progress]:
    """A progress for the block: the current one inside it, closed (a last line, or the bar's end) after."""
    shown = Progress(label, total, stream or sys.stderr, every)
    token = _current.set(shown)
    stop = threading.Event()
    ticker = threading.Thread(target=_tick, args=(shown, stop, every), daemon=True)
    ticker.start()
    try:
        with _logs_above(shown):
            yield shown
    except BaseException:
        shown.close(finished=False)  # the error tells the rest
        raise
    else:
        shown.close()
    finally:
        stop.set()
        ticker.join()
        _current.reset(token)


def track(
    items: Iterable[T], label: str, total: int | None = None, *, stream: TextIO | None = None
) -> Iterator[T]:
    """Each item of `items`, advancing a progress as the loop goes."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    with progress(label, total, stream=stream) as shown:
        for item in items:
            yield item
            shown.advance()


def current() -> Progress | None:
    return _current.get()


def advance(steps: int) -> None:
    """Advance the current progress, if any: for code that may run under one or not."""
    if (shown := _current.get()) is not None:
        shown.advance(steps)


def counted(rows: Iterable[T], every: int = 1000) -> Iterator[T]:
    """`rows` as they are, advancing the current progress (if any) by each `every` of them."""
    pending = 0
    for row in rows:
        yield row
        pending += 1
        if pending == every:
            advance(pending)
            pending = 0
    advance(pending)


@contextmanager
def _logs_above(shown: Progress) -> Iterator[None]:
    """On a terminal, log lines go above the bar instead of through it."""
    if shown.bar is None:
        yield
        return
    from tqdm.contrib.logging import logging_redirect_tqdm  # type: ignore[import-untyped]

    with logging_redirect_tqdm():
        yield


def _tick(shown: Progress, stop: threading.Event, every: float) -> None:
    while not stop.wait(min(every, 1.0)):
        shown.tick()


class _Bar(Protocol):  # what Progress uses of tqdm's bar
    def update(self, n: int) -> object: ...
    def refresh(self) -> object: ...
    def write(self, message: str, file: TextIO) -> object: ...
    def close(self) -> object: ...


def _bar(label: str, total: int | None, stream: TextIO) -> _Bar:
    from tqdm import tqdm  # type: ignore[import-untyped]

    # tqdm draws nothing on a terminal that reports no size (a pty may say 0 columns and 0 rows).
    size = shutil.get_terminal_size()
    shape = {"ncols": size.columns or 80, "nrows": size.lines or 24}
    if total is None:  # no steps to count: how long it has run
        bar: _Bar = tqdm(desc=label, file=stream, bar_format="{desc}: {elapsed}", **shape)
    else:
        bar = tqdm(total=total, desc=label, file=stream, unit="", unit_scale=total >= 10_000, **shape)
    return bar


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False

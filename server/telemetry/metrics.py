"""What each call tells telemetry: a counter and a latency histogram per tool (or resource, prompt,
completion), and who called and how it ended on the SDK's server span for the request.

Only the OpenTelemetry API here (cheap to import, a no-op until `server.telemetry.exporters.install_telemetry`
sets the providers): stdio and in-memory servers pay nothing."""

from __future__ import annotations

from opentelemetry import metrics, trace

# Calls of interactive tools take milliseconds to seconds; the defaults assume milliseconds.
_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]

_meter = metrics.get_meter("outlay.calls")
_calls = _meter.create_counter(
    "outlay.calls", "{call}", "Tool calls, resource reads, prompts and completions, by outcome"
)
_duration = _meter.create_histogram(
    "outlay.call.duration", "s", "Latency of a call, by outcome", explicit_bucket_boundaries_advisory=_SECONDS
)


def observe_call(kind: str, name: str, company: str, outcome: str, seconds: float) -> None:
    labels = {"kind": kind, "name": name, "outcome": outcome}
    _calls.add(1, labels)
    _duration.record(seconds, labels)
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({"outlay.company": company, "outlay.outcome": outcome})

"""What the server tells operators: structured logs, per-call metrics and spans, exporters."""

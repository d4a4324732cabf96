"""The demo company: a realistic, deterministic Acme Robotics GmbH written in the import format."""

from server.demo.generator import DemoSummary, write_demo_company

__all__ = ["DemoSummary", "write_demo_company"]

"""A company's expense policy, loaded or replaced on its own (`outlay policy load|show`)."""

"""Fake model providers served on loopback, for tests and demos: a scriptable Anthropic Messages API
(with the Bedrock invoke route) and a KServe v2 model server. They speak the real wire protocols, so
the real SDK and HTTP clients are what gets tested."""

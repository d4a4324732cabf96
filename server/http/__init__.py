"""The transport edge: streamable HTTP serving, bearer-token auth, OAuth, scopes, limits."""

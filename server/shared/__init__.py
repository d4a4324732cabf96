"""State every replica must share when there are several: per-caller rate and concurrency limits, the
LLM token budget per company and day, and the LLM answer cache.

One interface each (`server.shared.kinds`), two implementations: in process (`server.shared.memory`,
the embedded single-process default) and on Redis (`server.shared.on_redis`, with `OUTLAY_REDIS_URL`).
`server.shared.state.open_shared_state` picks one at start-up; the runtime holds it on the application
context (`AppContext.shared`). Kept free of imports here: the gateway and the HTTP limits import the
submodules they need.
"""

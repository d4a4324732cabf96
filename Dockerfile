# Outlay MCP server over streamable HTTP. Build: docker build -t outlay .
# Run migrations once per release (`outlay db upgrade`, the Kubernetes Job in deploy/k8s/), then the server.

FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY server ./server
COPY tools ./tools
COPY resources ./resources
COPY prompts ./prompts
COPY evals ./evals
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim
RUN groupadd --system --gid 10001 outlay \
    && useradd --system --uid 10001 --gid outlay --no-create-home --home-dir /nonexistent outlay
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OUTLAY_HOST=0.0.0.0 \
    OUTLAY_PORT=8000 \
    OUTLAY_LOG_FORMAT=json \
    MPLCONFIGDIR=/tmp/matplotlib \
    NUMBA_CACHE_DIR=/tmp/numba
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# uvicorn drains in-flight calls on SIGTERM for OUTLAY_SHUTDOWN_GRACE_SECONDS.
STOPSIGNAL SIGTERM
CMD ["outlay", "serve", "--transport", "http", "--host", "0.0.0.0"]

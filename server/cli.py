"""`outlay` command line: serve, db upgrade, import, demo, train, model, worker, jobs, audit, company,
policy, eval, claude-config, fake-llm, bench.

Heavy modules are imported inside each command so that `outlay serve --transport stdio` starts fast.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import secrets
import shutil
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.db.readiness import SchemaNotReady, check_serving
from server.progress import progress
from server.settings import Settings

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from server.context import AppContext
    from server.importer import ImportReport
    from server.jobs.runner import Handlers
    from server.runtime import Runtime

EXIT_USAGE, EXIT_FAILED = 2, 1
# Pinned: an unpinned `npx @modelcontextprotocol/inspector` on Node 20 quietly falls back to 0.15, which
# refuses `--cli URL --header ...`; 2.12.0 declares Node >= 22.19 but runs on 20 (tools, prompts, calls).
INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = _parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args, rest = parser.parse_known_args(argv)
    if args.command is cmd_bench:  # the bench's own options, which argparse's REMAINDER cannot take first
        args.bench_args = rest + args.bench_args
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if (
        args.command is cmd_import
        and getattr(args, "mapping", None) is None
        and (args.company or args.strict)
    ):
        parser.error("--company and --strict go with --mapping (a folder names its company in company.csv)")
    settings = Settings()
    from server.telemetry.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    try:
        return int(args.command(settings, args))
    except SchemaNotReady as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return 130


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line. Running `command`, only its parser is built: the other commands' 30 parsers and
    the modules that add them cost ~10 ms of CPU, a stdio server's start-up included. Without one (`outlay
    --help`, an unknown command) every command is built, so that help and errors list them all."""
    parser = argparse.ArgumentParser(prog="outlay", description="MCP server for a company's spend.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    for name, (help_text, add_arguments) in COMMANDS.items():
        if command is None or command == name:
            add_arguments(commands.add_parser(name, help=help_text, add_help=name != "bench"))
    return parser


def _serve_arguments(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", help="HTTP host (default OUTLAY_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="HTTP port (default OUTLAY_PORT or 8000)")
    serve.add_argument("--print-connect-help", action="store_true", help="print how to connect a client")
    serve.set_defaults(command=cmd_serve)


def _db_arguments(db: argparse.ArgumentParser) -> None:
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply pending migrations").set_defaults(command=cmd_db_upgrade)


def _import_arguments(load: argparse.ArgumentParser) -> None:
    load.add_argument("folder", type=Path, metavar="FOLDER|FILE")
    load.add_argument(
        "--mapping", type=Path, help="a mapping file: FILE is one flat export (a card statement)"
    )
    load.add_argument("--company", help="with --mapping: the company's slug (default: the mapping's)")
    how = load.add_mutually_exclusive_group()
    how.add_argument("--replace", action="store_true", help="replace the company if it already exists")
    how.add_argument("--append", action="store_true", help="add new expenses to an existing company")
    load.add_argument("--strict", action="store_true", help="with --mapping: refuse teams the company lacks")
    load.add_argument("--dry-run", action="store_true", help="check, show the first rows, write nothing")
    load.add_argument(
        "--no-train", action="store_true", help="do not train a first categorizer (`outlay train` does)"
    )
    where = load.add_mutually_exclusive_group()
    where.add_argument(
        "--queue",
        action="store_true",
        help="check here, write on `outlay worker` (a queue), whatever the size",
    )
    where.add_argument("--inline", action="store_true", help="write here, whatever the size")
    load.set_defaults(command=cmd_import)


def _demo_arguments(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--employees", type=int, default=250)
    demo.add_argument("--months", type=int, default=24)
    demo.add_argument("--out", type=Path, help="folder for the CSV files (default: next to the data)")
    demo.add_argument("--replace", action="store_true", help="replace the demo company if it exists")
    demo.add_argument("--if-missing", action="store_true", help="do nothing if a company is loaded")
    demo.set_defaults(command=cmd_demo)


def _train_arguments(train: argparse.ArgumentParser) -> None:
    train.add_argument("--company", help="company slug (default OUTLAY_COMPANY, or the only company)")
    train.add_argument("--no-serve", action="store_true", help="store the new version without serving it")
    train.set_defaults(command=cmd_train)


def _worker_arguments(worker: argparse.ArgumentParser) -> None:
    from server.jobs import cli as jobs_cli

    jobs_cli.add_worker_arguments(worker, job_handlers)


def _jobs_arguments(jobs: argparse.ArgumentParser) -> None:
    from server.jobs import cli as jobs_cli

    jobs_cli.add_jobs_arguments(jobs, job_handlers)


def _audit_arguments(audit: argparse.ArgumentParser) -> None:
    from server.audit import cli as audit_cli

    audit_cli.add_arguments(audit)


def _company_arguments(company: argparse.ArgumentParser) -> None:
    from server.companies import cli as company_cli

    company_cli.add_arguments(company)


def _policy_arguments(policy: argparse.ArgumentParser) -> None:
    from server.policies import cli as policy_cli

    policy_cli.add_arguments(policy)


def _eval_arguments(evaluation: argparse.ArgumentParser) -> None:
    from evals import cli as eval_cli

    eval_cli.add_arguments(evaluation)


def _claude_config_arguments(claude: argparse.ArgumentParser) -> None:
    claude.set_defaults(command=cmd_claude_config)


def _fake_llm_arguments(fake: argparse.ArgumentParser) -> None:
    fake.add_argument("--port", type=int, default=8100)
    fake.set_defaults(command=cmd_fake_llm)


def _bench_arguments(bench: argparse.ArgumentParser) -> None:
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(command=cmd_bench)


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"outlay: {message}", file=sys.stderr)
    return code


def cmd_db_upgrade(settings: Settings, _: argparse.Namespace) -> int:
    from alembic.util import CommandError
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from server.db.migrate import head_revision, revision_before_upgrade, upgrade
    from server.db.schema import unopenable

    try:
        before = asyncio.run(revision_before_upgrade(settings.database_url))
        upgrade(settings.database_url)
    except CommandError as exc:  # a migration that refuses says why (0013: cross-company references)
        return _fail(str(exc))
    except (DBAPIError, OSError) as exc:  # no server, no such database, wrong password
        return _fail(unopenable(make_url(settings.database_url), exc))
    where = _display_url(settings.database_url)
    if before is None:
        print(f"Created the database schema ({where}).", file=sys.stderr)
    elif before == head_revision():
        print(f"Database is up to date ({where}).", file=sys.stderr)
    else:
        print(f"Migrated the database from {before} to {head_revision()} ({where}).", file=sys.stderr)
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    settings = settings.model_copy(
        update={k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    )
    stdio, dev_token = args.transport == "stdio", None
    if not stdio and not settings.api_keys and not settings.oauth.issuer:
        # Neither OAuth nor keys: a one-off development key, so HTTP still never serves anonymous callers.
        dev_token = secrets.token_urlsafe(24)
        settings = settings.model_copy(update={"api_keys": {dev_token: settings.company or ""}})
    from concurrent.futures import ThreadPoolExecutor

    # Start-up without the cyclic garbage collector: it makes ~100,000 objects that live as long as the
    # process (modules, classes, the tools' schemas), and the collector's passes over them as they piled
    # up took ~50 ms of CPU before the first tools/list (and every full collection later ~60 ms). What the
    # imports made is frozen out of later collections (`gc.freeze`, no garbage among it); what
    # `build_server` made is collected once (its garbage, ~4,000 objects of pydantic's schema generators:
    # ~2 ms), then frozen too.
    gc.disable()
    try:
        # Once, here, before anything is answered; the lifespan then takes it as checked. The check waits on
        # the database most of its ~35 ms: the server's modules load meanwhile (a client waits for both;
        # spawn to tools/list p50 834 -> 763 ms over 25 alternated starts at load 3.7, min 563 -> 566 ms).
        with ThreadPoolExecutor(max_workers=1) as pool:
            checked = pool.submit(asyncio.run, check_serving(settings.database_url, settings.tenant_role))
            from server.app import build_server  # loaded here to overlap the check
            from server.runtime import Runtime

            checked.result()
        gc.freeze()
        local_company = (settings.company or "") if stdio else None
        runtime = Runtime(settings, local_company=local_company, checked=True)
        server = build_server(settings, local_company=local_company, runtime=runtime)
        gc.collect(0)  # the young generation: only what build_server made
        gc.freeze()
    finally:
        gc.enable()
    if stdio:
        asyncio.run(server.run_stdio_async())
        return 0
    return _serve_http(
        server, runtime, _connect_help(settings, dev_token) if args.print_connect_help or dev_token else None
    )


def _serve_http(server: MCPServer[AppContext], runtime: Runtime, connect_help: str | None) -> int:
    from server.http.serve import serve_http

    if connect_help:
        print(connect_help, file=sys.stderr, flush=True)
    try:
        started = asyncio.run(serve_http(server, runtime))
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has shut down cleanly: a normal stop
        started = True
    # uvicorn's re-raised Ctrl-C becomes asyncio.run's cancellation of the main task, which a task still
    # shutting down can absorb (seen under load): the server then returns as if it had ended by itself.
    if not started:
        return _fail("The HTTP server did not start: see the log above.", EXIT_FAILED)
    print("Stopped.", file=sys.stderr)
    return 0


def _connect_help(settings: Settings, dev_token: str | None) -> str:
    url = f"{settings.server_url}/mcp"
    token = dev_token or ("<an access token>" if settings.oauth.issuer else "<one of OUTLAY_API_KEYS>")
    note = (
        "  (a development key made for this run; set OUTLAY_API_KEYS to choose your own)" if dev_token else ""
    )
    return "\n".join(
        [
            f"Outlay is serving MCP over streamable HTTP at {url}",
            f"  Authorization: Bearer {token}{note}",
            "  Try it with the MCP Inspector (Node.js 20 or later; npm may warn that it wants 22):",
            f"    npx -y {INSPECTOR} --cli {url} --transport http \\",
            f"      --header 'Authorization: Bearer {token}' --method tools/list",
            "  Claude Code:",
            f"    claude mcp add --transport http outlay {url} --header 'Authorization: Bearer {token}'",
            "  Claude Desktop talks stdio instead: `outlay claude-config` prints its config entry.",
        ]
    )


def cmd_bench(_: Settings, args: argparse.Namespace) -> int:
    try:
        from bench.run import main as run_benchmarks
    except ModuleNotFoundError:
        return _fail("outlay bench runs from a checkout of the repository: bench/ is not installed")
    return run_benchmarks(args.bench_args)


def cmd_fake_llm(_: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from server.fakes.anthropic import FakeAnthropic
    from server.fakes.demo import schema_answer

    url = f"http://127.0.0.1:{args.port}"
    print(
        f"A fake Claude answers at {url}. Point the server at it with\n"
        f"  OUTLAY_GATEWAY__PROVIDER=anthropic OUTLAY_GATEWAY__BASE_URL={url} "
        "OUTLAY_GATEWAY__ANTHROPIC_API_KEY=fake",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(FakeAnthropic(schema_answer), host="127.0.0.1", port=args.port, log_config=None)
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from server.importer import ImportFailed

    source = (
        args.folder if getattr(args, "mapping", None) is None else f"{args.folder} through {args.mapping}"
    )
    if getattr(args, "queue", False) and settings.jobs.queue != "postgresql":
        return _fail("--queue needs a queue: set OUTLAY_JOBS__QUEUE=postgresql (docs/jobs.md)", EXIT_USAGE)
    request = ImportRequest(
        args.folder,
        replace=args.replace,
        append=getattr(args, "append", False),
        dry_run=getattr(args, "dry_run", False),
        mapping=getattr(args, "mapping", None),
        company=getattr(args, "company", None),
        strict=getattr(args, "strict", False),
        train=not getattr(args, "no_train", False),
        queue_training=settings.jobs.queue == "postgresql",
    )
    try:
        if _queued_import(settings, args, request):
            return asyncio.run(queue_import(settings, request, str(source)))
        loaded = asyncio.run(load_company(settings.database_url, request.path, request=request))
    except ImportFailed as failed:
        for line in [*map(str, failed.problems), *failed.more()]:
            print(line, file=sys.stderr)
        return _fail(f"import of {source} failed with {failed.count} problem(s); nothing was written")
    except LookupError as exc:  # a new company's slug, taken by another import meanwhile
        return _fail(str(exc))
    for line in import_lines(loaded.report):
        print(line, file=sys.stderr)
    if loaded.trained:
        print(loaded.trained, file=sys.stderr)
    if loaded.train_queued:
        slug = loaded.report.company_slug
        return _categorizer(lambda: queue_training(settings, slug, serve=True, only_if_missing=True))
    return 0


def _queued_import(settings: Settings, args: argparse.Namespace, request: ImportRequest) -> bool:
    """Whether the import goes to a worker: with a queue, `--queue` or expenses of at least
    OUTLAY_JOBS__IMPORT_QUEUE_ROWS rows (never a dry run, `--inline`, or `outlay demo`'s import)."""
    asked = getattr(args, "queue", False)
    if settings.jobs.queue != "postgresql" or request.dry_run or getattr(args, "inline", True):
        return False
    expenses = request.path if request.mapping is not None else request.path / "expenses.csv"
    return asked or (_data_lines(expenses) or 0) >= settings.jobs.import_queue_rows


async def queue_import(settings: Settings, r: ImportRequest, source: str) -> int:
    """`outlay import` of a large company with a queue: every check here (a dry run: a problem is refused
    at once and nothing is queued), then the files staged for a worker, which writes them in one
    transaction (server/importer/jobs.py)."""
    from server.importer import import_company, import_export
    from server.importer.jobs import Request, export_files, folder_files, stage
    from server.runtime import Runtime
    from tools.categorize.jobs import TRAIN

    how = {"replace": r.replace, "append": r.append}
    names: dict[str, str] = {}
    async with Runtime(settings, local_company=None).open() as app:
        if r.mapping is None:
            report = await import_company(
                app.sessions, r.path, replace=r.replace, append=r.append, dry_run=True
            )
            files = folder_files(r.path)
        else:
            report = await import_export(
                app.sessions, r.path, r.mapping, company=r.company, strict=r.strict,
                replace=r.replace, append=r.append, dry_run=True,
            )  # fmt: skip
            files, names = export_files(r.path, r.mapping)
        then = TRAIN if r.train and not r.append else None
        arguments = {**how, "source": source, "company": r.company, "strict": r.strict, "then": then, **names}
        job_id, size = await stage(app, Request(files, report.company_slug, report.currency, arguments))
    print(
        f"{report.company_slug}: checked {source} ({report.expenses} expenses, no problem) and queued its "
        f"import as job {job_id} ({size / 1e6:.1f} MB staged); `outlay jobs list` follows it.",
        file=sys.stderr,
    )
    return 0


async def queue_training(
    settings: Settings, slug: str | None, *, serve: bool, only_if_missing: bool = False
) -> int:
    """`outlay train` (and a first training after `outlay import`) with a queue: a job for the workers;
    the server serves the version it has until the job stores the new one."""
    from server.jobs.runner import Submission, submit
    from server.runtime import Runtime
    from tools.categorize import queries
    from tools.categorize.commands import company_named
    from tools.categorize.jobs import TRAIN

    async with Runtime(settings, local_company=None).open() as app:
        async with app.sessions() as session:
            company = await company_named(session, slug)
            if only_if_missing and await queries.versions(session, company.id):
                return 0
        submission = Submission(company.id, TRAIN, {"serve": serve}, "cli")
        job, _ = await submit(app, job_handlers()[0], submission)
    print(
        f"{company.slug}: queued the categorizer's training as job {job.id}; `outlay jobs list` follows it "
        "(the server answers with the version it has until the new one is stored).",
        file=sys.stderr,
    )
    return 0


@dataclass(frozen=True)
class ImportRequest:
    """What `outlay import` was asked: a folder, or one export through a mapping, and how to load it."""

    path: Path
    replace: bool = False
    append: bool = False
    dry_run: bool = False
    mapping: Path | None = None
    company: str | None = None
    strict: bool = False
    train: bool = True  # a first categorizer when the company has none (--no-train: not now)
    # With a queue: the first categorizer is a job (`outlay worker` trains it), not trained here.
    queue_training: bool = False


@dataclass(frozen=True)
class LoadedCompany:
    report: ImportReport
    trained: str | None  # what the first training of the categorizer said, if there was one
    train_queued: bool = False  # the first training is left to a job (a queue is configured)


async def load_company(
    database_url: str,
    folder: Path,
    *,
    replace: bool = False,
    actor: str = "cli",
    request: ImportRequest | None = None,
) -> LoadedCompany:
    """What `outlay import` does, for the command and for whoever builds companies the same way (the
    conversation harness): import the folder, or the export through its mapping (`ImportFailed` when it
    has problems, and nothing is written), then train a first categorizer when the company has none (a
    --replace drops the old). An append, a dry run or --no-train trains nothing: `outlay train` does."""
    from server.db.engine import create_engine, create_session_factory
    from server.db.schema import ensure_schema
    from server.importer import import_company, import_export
    from tools.categorize.commands import train_if_missing

    r = request or ImportRequest(folder, replace=replace)
    engine = create_engine(database_url)
    try:
        await ensure_schema(engine)
        sessions = create_session_factory(engine)
        if r.mapping is None:
            with progress("import: expenses written", total=_data_lines(folder / "expenses.csv")):
                report = await import_company(
                    sessions, folder, replace=r.replace, append=r.append, dry_run=r.dry_run, actor=actor
                )
        else:
            with progress("import: expenses written"):
                report = await import_export(
                    sessions, folder, r.mapping, company=r.company, strict=r.strict, replace=r.replace,
                    append=r.append, dry_run=r.dry_run, actor=actor,
                )  # fmt: skip
        if r.append or r.dry_run or not r.train:
            return LoadedCompany(report, None)
        if r.queue_training:
            return LoadedCompany(report, None, train_queued=True)
        with progress("train: the categorizer"):
            return LoadedCompany(report, await train_if_missing(sessions, report.company_slug))
    finally:
        await engine.dispose()


def _data_lines(csv_file: Path) -> int | None:
    """Rows of a CSV file, near enough for a progress bar (a quoted line break counts twice)."""
    if not csv_file.is_file():
        return None
    with csv_file.open("rb") as lines:
        return max(0, sum(1 for _ in lines) - 1)


def import_lines(report: ImportReport) -> list[str]:
    """What `outlay import` says it did (or, a dry run, would do)."""
    from server.importer.preview import describe

    return describe(report)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from server.db.schema import check_schema
    from server.demo import write_demo_company

    asyncio.run(check_schema(settings.database_url))  # before any file is written
    if args.if_missing and asyncio.run(_any_company(settings)):
        print("A company is already loaded; leaving it as it is.", file=sys.stderr)
        return 0
    folder = args.out or settings.demo_dir or _default_demo_dir(settings)
    if folder.exists() and any(folder.iterdir()):
        if not (folder / "company.csv").is_file():
            return _fail(f"{folder} is not empty and holds no demo company: choose another --out", EXIT_USAGE)
        shutil.rmtree(folder)  # an earlier demo folder: rewrite it whole
    today = settings.today or dt.datetime.now(dt.UTC).date()
    summary = write_demo_company(
        folder, seed=args.seed, employees=args.employees, months=args.months, today=today
    )
    print(f"Wrote the demo company {summary.slug!r} to {folder}:\n{summary.describe()}", file=sys.stderr)
    args.folder = folder
    return cmd_import(settings, args)


async def _any_company(settings: Settings) -> bool:
    from sqlalchemy import select

    from server.db.engine import create_engine
    from server.db.models import Company

    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            return (await connection.scalar(select(Company.id).limit(1))) is not None
    finally:
        await engine.dispose()


def _default_demo_dir(settings: Settings) -> Path:
    from platformdirs import user_data_path

    return user_data_path("outlay", appauthor=False) / "demo-company"


def _model_arguments(model: argparse.ArgumentParser) -> None:
    actions = model.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="a company's categorizer versions (* = serving)")
    listing.add_argument("--company", help="company slug (default OUTLAY_COMPANY, or the only company)")
    listing.set_defaults(command=cmd_model_list)
    use = actions.add_parser("use", help="serve another categorizer version")
    use.add_argument("version", type=int)
    use.add_argument("--company", help="company slug (default OUTLAY_COMPANY, or the only company)")
    use.set_defaults(command=cmd_model_use)
    serve = actions.add_parser("serve", help="serve every company's categorizer (Open Inference Protocol)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8500)
    serve.set_defaults(command=cmd_model_serve)


# Every command: its help, and what adds its arguments (and sets `command`, the function that runs it).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "serve": ("run the MCP server", _serve_arguments),
    "db": ("database schema", _db_arguments),
    "import": (
        "import a company from a folder of CSV files, or from one export with --mapping",
        _import_arguments,
    ),
    "demo": ("write the demo company as CSV and import it", _demo_arguments),
    "train": ("train a company's categorizer on its categorized expenses", _train_arguments),
    "model": ("categorizer model versions and serving", _model_arguments),
    "worker": ("run queued jobs (OUTLAY_JOBS__QUEUE=postgresql)", _worker_arguments),
    "jobs": ("jobs of the queue: list (--dead), retry", _jobs_arguments),
    "audit": ("the audit trail of tool calls, reads and prompts", _audit_arguments),
    "company": ("the companies loaded: list, remove", _company_arguments),
    "policy": ("a company's expense policy: load, show", _policy_arguments),
    "eval": ("evaluations; results go to var/evals/ (--out to choose)", _eval_arguments),
    "claude-config": ("print the Claude Desktop config entry", _claude_config_arguments),
    "fake-llm": ("serve a fake Claude on 127.0.0.1, for demos without a key", _fake_llm_arguments),
    "bench": ("benchmarks, from a checkout; results go to var/bench/ (--results)", _bench_arguments),
}


def _categorizer(run: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run a categorizer command; what it refuses to do becomes a one-line error."""
    from server.errors import OutlayError
    from tools.categorize.commands import CommandFailed

    try:
        return asyncio.run(run())
    except (CommandFailed, OutlayError) as exc:
        return _fail(str(exc))


def job_handlers() -> tuple[Handlers, tuple[str, ...]]:
    """Every capability's job code, by kind, and the kinds each company gets nightly."""
    from server.importer.jobs import HANDLERS as IMPORT
    from tools.categorize.jobs import HANDLERS as CATEGORIZE
    from tools.forecast.jobs import HANDLERS as FORECAST
    from tools.forecast.jobs import SNAPSHOT

    return {**IMPORT, **CATEGORIZE, **FORECAST}, (SNAPSHOT,)


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    from tools.categorize import commands

    company = args.company or settings.company
    if settings.jobs.queue == "postgresql":
        return _categorizer(lambda: queue_training(settings, company, serve=not args.no_serve))
    with progress("train: the categorizer"):
        return _categorizer(lambda: commands.train(settings, company, serve=not args.no_serve))


def cmd_model_list(settings: Settings, args: argparse.Namespace) -> int:
    from tools.categorize import commands

    return _categorizer(lambda: commands.list_versions(settings, args.company or settings.company))


def cmd_model_use(settings: Settings, args: argparse.Namespace) -> int:
    from tools.categorize import commands

    return _categorizer(
        lambda: commands.use_version(settings, args.company or settings.company, args.version)
    )


def cmd_model_serve(settings: Settings, args: argparse.Namespace) -> int:
    from tools.categorize import commands

    return _categorizer(lambda: commands.serve_models(settings, args.host, args.port))


def cmd_claude_config(settings: Settings, _: argparse.Namespace) -> int:
    env = {"OUTLAY_DATABASE_URL": settings.database_url}
    if settings.company:
        env["OUTLAY_COMPANY"] = settings.company
    if settings.user:
        env["OUTLAY_USER"] = settings.user
    executable = shutil.which("outlay") or str(Path(sys.executable).with_name("outlay"))
    entry = {
        "mcpServers": {
            "outlay": {"command": executable, "args": ["serve", "--transport", "stdio"], "env": env}
        }
    }
    print(json.dumps(entry, indent=2))
    return 0


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())

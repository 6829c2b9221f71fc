"""Command line: ``python -m backend COMMAND``.

serve               run the ASGI server (uvicorn)
migrate             apply pending migrations
audit verify        verify the audit hash chain; exit 1 naming the first broken row
schema export       write mobile_contract/schema.graphql (``--check`` fails on drift)
referrals expire    expire referrals past their validity window (each server also does)
worker              send push notifications and e-mails from their outboxes (run several; set
                    PUSH_DISPATCH_IN_PROCESS=false and EMAIL_DISPATCH_IN_PROCESS=false on the servers)
messages expire     destroy messages past their conversation's retention (each server also does)
keys rotate         re-wrap every data key under the current key-encryption key (restartable)
migrations check    fail when the tables and the migrations disagree
migrations new      create an auto migration for table changes

Demo data is not a product command: ``python -m tools.demo`` (``make run``) seeds it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from backend.settings import PROJECT_ROOT, Settings, get_settings

if TYPE_CHECKING:
    from backend.container import Container

SCHEMA_PATH = PROJECT_ROOT / "mobile_contract" / "schema.graphql"
T = TypeVar("T")


def _in_container(settings: Settings, job: Callable[[Container], Awaitable[T]]) -> T:
    """Run ``job`` on this process's container, its database started and stopped around it."""
    from backend.container import running_container

    async def run() -> T:
        async with running_container(settings) as container:
            return await job(container)

    return asyncio.run(run())


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backend.realtime import UVICORN_WEBSOCKETS

    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        ws=UVICORN_WEBSOCKETS,
        ws_per_message_deflate=False,
        ws_max_size=get_settings().realtime.max_message_bytes,
        ws_ping_interval=None,  # the graphql-transport-ws handler sends protocol pings itself
        timeout_graceful_shutdown=10,  # then remaining sockets close with 1012; apps resume
        proxy_headers=False,
        server_header=False,
        log_level="info",
    )
    return 0


def _referrals_expire(_: argparse.Namespace) -> int:
    from backend.referrals.expiry import expire_once

    print(f"expired {_in_container(get_settings(), lambda c: expire_once(c.database))} referral(s)")
    return 0


def _worker(args: argparse.Namespace) -> int:
    """The push and e-mail dispatchers and the automation runner as their own process (several
    may run at once; set PUSH_DISPATCH_IN_PROCESS, EMAIL_DISPATCH_IN_PROCESS and
    AUTOMATION_IN_PROCESS to false on the servers)."""
    import gc
    import signal

    from backend.automation.runner import Runner, catch_up
    from backend.email.runtime import build_dispatcher as build_email_dispatcher
    from backend.logging import configure_logging
    from backend.push.runtime import build_dispatcher

    settings = get_settings()
    configure_logging(settings)

    async def run(container: Container) -> None:
        dispatcher = build_dispatcher(settings, container.database)
        emails = build_email_dispatcher(settings, container.database)
        # What exists after start-up lives as long as the process: out of every garbage
        # collection (as the app does), so full collections scan only what sends allocate.
        gc.collect()
        gc.freeze()
        await catch_up(container.database)
        tasks = [
            asyncio.create_task(dispatcher.run()),
            asyncio.create_task(emails.run()),
            asyncio.create_task(Runner(container.database, settings.automation).run()),
        ]
        loop = asyncio.get_running_loop()

        def stop() -> None:
            for task in tasks:
                task.cancel()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop)
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            await dispatcher.sender.close()
            await emails.sender.close()

    _in_container(settings, run)
    return 0


def _messages_expire(_: argparse.Namespace) -> int:
    from backend.messaging.retention import expire_once

    print(f"expired {_in_container(get_settings(), lambda c: expire_once(c.database))} message(s)")
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    from backend.crypto.rotation import Batch, rotate_data_keys
    from backend.logging import configure_logging
    from backend.wiring import WRAPPED_KEYS

    settings = get_settings()
    configure_logging(settings)

    def progress(batch: Batch) -> None:
        skipped = f", {batch.changed_meanwhile} changed meanwhile" if batch.changed_meanwhile else ""
        failed = f", {batch.unreadable} unreadable" if batch.unreadable else ""
        print(
            f"{batch.table} batch {batch.number}: {batch.rotated} re-wrapped{skipped}{failed}"
            f" ({batch.rotated_in_table} so far)",
            flush=True,
        )

    report = _in_container(
        settings,
        lambda c: rotate_data_keys(
            WRAPPED_KEYS, args.batch_size, progress, database=c.database, pause_seconds=args.pause
        ),
    )
    for table in report.tables:
        print(
            f"{table.table}: {table.rotated} re-wrapped, {table.already_current} already current,"
            f" {table.unreadable} unreadable, {report.remaining.get(table.table, 0)} left"
        )
    print(
        f"current version {report.current_version}: {report.rotated} data key(s) re-wrapped;"
        f" {report.remaining_total} still wrapped by another version"
    )
    if not report.complete:
        print(
            "some data keys are still wrapped by another version: run again (keys written meanwhile by"
            " a server that had not re-read the file yet); unreadable ones are logged by id",
            file=sys.stderr,
        )
        return 1
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _migrate(_: argparse.Namespace) -> int:
    from backend.migrations_tools import migrate

    asyncio.run(migrate())
    print("migrations applied")
    return 0


def _audit_verify(_: argparse.Namespace) -> int:
    from backend.audit.verify import verify_chain

    report = asyncio.run(verify_chain())
    if report.intact:
        print(f"audit chain intact: {report.rows_checked} rows verified")
        return 0
    where = f" at row {report.first_broken_row_id}" if report.first_broken_row_id is not None else ""
    print(f"audit chain BROKEN{where}: {report.reason}", file=sys.stderr)
    return 1


def _schema_export(args: argparse.Namespace) -> int:
    from backend.graphql.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    path = Path(args.path)
    if args.check:
        if not path.exists() or path.read_text() != sdl:
            print(f"{path} differs from the code: run `make schema`", file=sys.stderr)
            return 1
        print(f"{path} matches the code")
        return 0
    path.write_text(sdl)
    print(f"wrote {path}")
    return 0


def _migrations_check(_: argparse.Namespace) -> int:
    from backend.migrations_tools import pending_table_changes

    changes = asyncio.run(pending_table_changes())
    if changes:
        print("tables and migrations differ; run `make migration`:", file=sys.stderr)
        for change in changes:
            print(f"  {change}", file=sys.stderr)
        return 1
    print("migrations match the tables")
    return 0


def _migrations_new(args: argparse.Namespace) -> int:
    from piccolo.apps.migrations.commands.new import new

    asyncio.run(new(app_name="careloop", auto=True, desc=args.description, auto_input="y"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the ASGI server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_serve)

    commands.add_parser("migrate", help="apply pending migrations").set_defaults(run=_migrate)

    audit = commands.add_parser("audit", help="audit log tools").add_subparsers(dest="audit", required=True)
    audit.add_parser("verify", help="verify the hash chain").set_defaults(run=_audit_verify)

    schema = commands.add_parser("schema", help="mobile contract schema").add_subparsers(
        dest="schema", required=True
    )
    export = schema.add_parser("export", help="write the SDL")
    export.add_argument("--check", action="store_true", help="fail when the file differs")
    export.add_argument("--path", default=str(SCHEMA_PATH))
    export.set_defaults(run=_schema_export)

    referrals = commands.add_parser("referrals", help="referral jobs").add_subparsers(
        dest="referrals", required=True
    )
    referrals.add_parser("expire", help="expire referrals past their validity window").set_defaults(
        run=_referrals_expire
    )

    commands.add_parser(
        "worker", help="send push notifications and e-mails from their outboxes"
    ).set_defaults(run=_worker)

    messages = commands.add_parser("messages", help="secure messaging jobs").add_subparsers(
        dest="messages", required=True
    )
    messages.add_parser("expire", help="destroy messages past their retention").set_defaults(
        run=_messages_expire
    )

    keys = commands.add_parser("keys", help="data-encryption key tools").add_subparsers(
        dest="keys", required=True
    )
    rotate = keys.add_parser("rotate", help="re-wrap data keys under the current key-encryption key")
    rotate.add_argument("--batch-size", type=_positive, default=200, help="rows per transaction")
    rotate.add_argument("--pause", type=float, default=0.0, help="seconds to wait between batches")
    rotate.set_defaults(run=_keys_rotate)

    migrations = commands.add_parser("migrations", help="migration tools").add_subparsers(
        dest="migrations", required=True
    )
    migrations.add_parser("check", help="fail on drift").set_defaults(run=_migrations_check)
    new = migrations.add_parser("new", help="create an auto migration")
    new.add_argument("description")
    new.set_defaults(run=_migrations_new)

    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

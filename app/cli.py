"""The `gatehouse` command: serve, worker, migrate, create-org, create-key, rotate-keys, audit verify,
generate-key."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import orjson

from app.core.settings import Settings, SettingsError, load_settings
from app.logs import configure_logging
from models.db import close_database, migrate, open_database, release_database
from models.organizations import PLANS
from resolvers.errors import DomainError


def _print_json(value: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(value).decode() + "\n")


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from app.main import create_app

    app = create_app(settings)
    settle_garbage_collector()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        ws_max_size=settings.max_body_bytes,  # a WebSocket message is held to the HTTP body's bound
        # No permessage-deflate: browsers always offer it, and each connection that takes it holds a
        # compressor and a decompressor (70 KB and up, websockets' docs), more than the rest of a
        # subscription (about 30 KB, bench figure 12); a pendingApprovals frame is a few hundred bytes.
        ws_per_message_deflate=False,
    )


# Objects the youngest generation may gain before a collection (CPython's default is 700). A fan-out
# burst makes thousands of short-lived objects at once (a writer task and its coroutines per
# connection); at 700 they were collected mid-burst, promoted, and every 350,000 promotions paid a
# full collection of all 1.4 million objects of 10,000 open connections: 600-900 ms with the server
# stopped, every 10 s of fan-out (bench figure 12: p99 971 ms, then 101 ms with this threshold).
GC_YOUNG_THRESHOLD = 100_000


def settle_garbage_collector() -> None:
    """Once the code, the schema and the app are built: move every object alive now out of the
    collector's sight (`gc.freeze`), so a full collection scans only what requests create, not the
    hundreds of thousands of long-lived objects of the libraries and the schema; and let a burst's
    short-lived objects die before the collector sees them (GC_YOUNG_THRESHOLD).

    Every module must be imported first (`load_jobs`). The worker used to import its jobs after
    this: some 90,000 objects of their modules (the MCP SDK's models among them) sat in the young
    generation, and a worker started with a backlog (bench figure 6) ran its first young collection
    mid-burst, 40-53 ms spent scanning them, 929 objects freed."""
    from app.workers import load_jobs

    load_jobs()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


async def _run_worker(settings: Settings) -> None:
    from app.services import open_services
    from app.workers import run_workers

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with open_services(settings) as services:
        settle_garbage_collector()
        await run_workers(services, stop)


async def _with_database(settings: Settings, work: Callable[[], Awaitable[None]]) -> None:
    """Open the database (bringing an embedded one up to date first), run, close."""
    if settings.is_sqlite:
        await migrate(settings)
        await close_database()
    await open_database(settings)
    try:
        await work()
    finally:
        await release_database()


async def _migrate(settings: Settings) -> None:
    try:
        await migrate(settings)
    finally:
        await close_database()


async def _create_org(settings: Settings, args: argparse.Namespace) -> None:
    from resolvers.keys.organizations import create_organization

    async def work() -> None:
        created = await create_organization(args.name, args.plan)
        if args.json:
            _print_json({"organizationId": created.organization.id, "apiKey": created.admin_key.secret})
        else:
            print(f"organization: {created.organization.id}\nadmin API key (shown once): {created.admin_key.secret}")

    await _with_database(settings, work)


async def _create_key(settings: Settings, args: argparse.Namespace) -> None:
    from resolvers.keys.api_keys import issue_for_organization

    async def work() -> None:
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
        created = await issue_for_organization(args.org, name=args.name, scopes=scopes, rate_limit=args.rate_limit,
                                               agent_id=args.agent)
        if args.json:
            _print_json({"id": created.key.id, "apiKey": created.secret, "scopes": created.key.scopes,
                         "agentId": created.key.agent_id})
        else:
            print(f"key: {created.key.id}\nAPI key (shown once): {created.secret}")

    await _with_database(settings, work)


async def _rotate_keys(settings: Settings, args: argparse.Namespace) -> None:
    from app.core.keys import load_keyring
    from resolvers.credentials.rotation import rotate_all

    keyring = load_keyring(settings)

    async def work() -> None:
        report = await rotate_all(keyring, args.batch_size, args.max_batches)
        if args.json:
            _print_json({"activeKey": report.active_key, "moved": report.moved, "remaining": report.remaining,
                         "unreadable": report.unreadable})
            return
        print(f"moved {report.moved} credential(s) to key {report.active_key!r}")
        for kid, count in sorted(report.remaining.items()):
            print(f"remaining under key {kid!r}: {count}")
        if not report.remaining:
            print("no credential remains under an old key: old keys may be removed from GATEHOUSE_ENCRYPTION_KEYS")
        for credential_id in report.unreadable:
            print(f"cannot decrypt {credential_id}: set its data again (PUT /api/v1/credentials/{credential_id})")

    await _with_database(settings, work)


async def _audit_verify(settings: Settings, args: argparse.Namespace) -> None:
    from resolvers.audit.reads import time_range
    from resolvers.audit.verify import verify

    async def work() -> None:
        since, before = time_range(args.since, args.before)
        result = await verify(args.org, since, before)
        if args.json:
            _print_json(result.to_wire())
        else:
            _print_verification(result.to_wire())
        if not result.ok:
            raise SystemExit(1)

    await _with_database(settings, work)


def _print_verification(report: dict[str, Any]) -> None:
    print(f"organization {report['organizationId']}: {'ok' if report['ok'] else 'BROKEN'}")
    print(f"checked {report['checked']} entr(y/ies), positions {report['firstPosition']}..{report['lastPosition']}"
          f" (anchor {report['anchorPosition']}, head {report['headPosition']}); pending (not sealed yet): "
          f"{report['pending']}")
    mismatch = report["mismatch"]
    if mismatch is not None:
        print(f"first mismatch: {mismatch['problem']} at position {mismatch['position']}, entry {mismatch['entryId']}"
              f"\n  expected {mismatch['expected']}\n  stored   {mismatch['stored']}")


def _generate_key() -> None:
    from app.core.crypto import generate_key

    print(f"k{os.urandom(3).hex()}:{generate_key()}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gatehouse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the HTTP server (embedded mode also runs the workers)")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    sub.add_parser("worker", help="run the background workers only")
    sub.add_parser("migrate", help="apply database migrations")
    org = sub.add_parser("create-org", help="create an organization and its first admin key")
    org.add_argument("name")
    org.add_argument("--plan", choices=PLANS, default="free")
    org.add_argument("--json", action="store_true")
    key = sub.add_parser("create-key", help="create an API key for an organization")
    key.add_argument("--org", required=True)
    key.add_argument("--name", required=True)
    key.add_argument("--scopes", required=True, help="comma-separated, e.g. actions:write,policies:read")
    key.add_argument("--rate-limit", type=int, default=None)
    key.add_argument("--agent", default=None, help="bind the key to this agent id (agt_...): it proposes as it only")
    key.add_argument("--json", action="store_true")
    rotate = sub.add_parser("rotate-keys", help="re-encrypt every credential under the first encryption key")
    rotate.add_argument("--batch-size", type=int, default=100)
    rotate.add_argument("--max-batches", type=int, default=None, help="stop after this many batches")
    rotate.add_argument("--json", action="store_true")
    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(dest="audit_command", required=True)
    check = audit.add_parser("verify", help="recompute an organization's audit hash chain; exit 1 if it is broken")
    check.add_argument("--org", required=True)
    check.add_argument("--from", dest="since", default=None, help="ISO-8601: only entries made at or after it")
    check.add_argument("--to", dest="before", default=None, help="ISO-8601: only entries made before it")
    check.add_argument("--json", action="store_true")
    sub.add_parser("generate-key", help="print a new GATEHOUSE_ENCRYPTION_KEYS entry (kid:base64key)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.stderr.write(f"gatehouse: {exc}\n")
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.log_json)
    try:
        _dispatch(settings, args)
    except DomainError as exc:
        sys.stderr.write(f"gatehouse: {exc.message}\n")
        raise SystemExit(1) from None
    except SettingsError as exc:
        sys.stderr.write(f"gatehouse: {exc}\n")
        raise SystemExit(2) from None


def _dispatch(settings: Settings, args: argparse.Namespace) -> None:
    if args.command == "generate-key":
        _generate_key()
        return
    if args.command in ("serve", "worker"):
        from app.core.keys import load_keyring

        load_keyring(settings)  # a missing production key stops here, before anything starts
    if args.command == "serve":
        cmd_serve(settings, args)
        return
    commands: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
        "worker": lambda: _run_worker(settings),
        "migrate": lambda: _migrate(settings),
        "create-org": lambda: _create_org(settings, args),
        "create-key": lambda: _create_key(settings, args),
        "rotate-keys": lambda: _rotate_keys(settings, args),
        "audit": lambda: _audit_verify(settings, args),
    }
    with contextlib.suppress(KeyboardInterrupt):
        if args.command == "worker":  # the same loop as `serve`: it sends every webhook (measured ~1.5x)
            import uvloop

            uvloop.run(commands[args.command]())
        else:
            asyncio.run(commands[args.command]())


if __name__ == "__main__":
    main()

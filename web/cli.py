"""The `gymkana` command: serve, worker, migrate, create-marketer, demo, verify."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from contests.errors import ConfigurationError, GymkanaError
from contests.settings import Settings, load_settings
from web.serve import DEFAULT_SERVER, SERVERS
from web.startup import await_migrations, check_services, migrate

log = logging.getLogger("gymkana.cli")

# How long `serve --no-migrate` and `worker` wait, by default, for someone else's
# `gymkana migrate` before giving up: enough for a deploy that starts them together.
MIGRATION_WAIT_SECONDS = 60.0


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigurationError as exc:
        sys.exit(f"gymkana: invalid settings: {exc}")


def cmd_migrate(args: argparse.Namespace) -> None:
    asyncio.run(migrate(_settings()))
    print("Database is up to date.")


def cmd_serve(args: argparse.Namespace) -> None:
    from web.app import create_app
    from web.serve import run

    settings = _settings()
    asyncio.run(check_services(settings))
    if args.no_migrate:
        asyncio.run(await_migrations(settings, args.migration_wait))
    else:
        asyncio.run(migrate(settings))
    try:
        # Each server process builds its own app; a setting it would refuse is told here,
        # once, before any process starts.
        create_app(settings)
    except ConfigurationError as exc:
        sys.exit(f"gymkana: invalid settings: {exc}")
    host, port = args.host or settings.host, args.port or settings.port
    run(settings, server=args.server, host=host, port=port)


def cmd_worker(args: argparse.Namespace) -> None:
    from web.app import app_links
    from workers.settings import run

    settings = _settings()
    asyncio.run(check_services(settings))
    asyncio.run(await_migrations(settings, args.migration_wait))
    asyncio.run(run(settings, app_links(settings), burst=args.burst))


def cmd_create_marketer(args: argparse.Namespace) -> None:
    from tortoise import Tortoise
    from tortoise.transactions import in_transaction

    from contests.brands import add_marketer, create_brand
    from contests.clock import utcnow
    from contests.db import tortoise_config
    from contests.models import Brand, MarketerRole
    from contests.queries import column

    settings = _settings()

    async def run() -> str:
        await migrate(settings)
        await Tortoise.init(
            config=tortoise_config(settings.database_url), _enable_global_fallback=True
        )
        try:
            async with in_transaction():
                return await _brand_and_marketer()
        finally:
            await Tortoise.close_connections()

    async def _brand_and_marketer() -> str:
        # One transaction: a bad address must not leave a brand without its marketer.
        brand = await Brand.filter(slug=args.brand).first() if args.brand else None
        if brand is None:
            if not args.brand_name:
                brands = ", ".join(await column(Brand.all(), "slug")) or "none yet"
                raise GymkanaError(
                    f"Name an existing brand with --brand ({brands}) "
                    "or create one with --brand-name and --domain.",
                    "brand_required",
                )
            brand = await create_brand(
                name=args.brand_name,
                domains=args.domain or [],
                reply_to=args.reply_to or args.email,
                now=utcnow(),
                actor="cli",
            )
        await add_marketer(
            brand,
            args.email,
            name=args.name or "",
            role=MarketerRole(args.role),
            actor="cli",
            now=utcnow(),
        )
        return brand.slug

    try:
        slug = asyncio.run(run())
    except GymkanaError as exc:
        sys.exit(f"gymkana: {exc}")
    print(f"{args.email} can now sign in at {settings.base_url}/login and manage “{slug}”.")


def cmd_demo(args: argparse.Namespace) -> None:
    from web.demo import run_demo

    run_demo(host=args.host, port=args.port, site_port=args.site_port)


def cmd_verify(args: argparse.Namespace) -> None:
    from contests import verify

    try:
        certificate = verify.parse_certificate(Path(args.certificate).read_bytes())
    except OSError as exc:
        sys.exit(f"gymkana: cannot read {args.certificate}: {exc.strerror or exc}")
    except verify.FileError as exc:
        sys.exit(f"gymkana: {args.certificate}: {exc}")
    report = verify.verify(certificate)
    if args.chain and not report.problems and isinstance(certificate, dict):
        try:
            with Path(args.chain).open(encoding="utf-8", errors="strict", newline="") as lines:
                report.problems.extend(verify.verify_chain(lines, certificate))
        except OSError as exc:
            sys.exit(f"gymkana: cannot read {args.chain}: {exc.strerror or exc}")
        except UnicodeDecodeError as exc:
            sys.exit(f"gymkana: {args.chain}: not valid UTF-8 (byte {exc.start})")
    for notice in report.notices:
        print(f"Note: {notice}.")
    if report.problems:
        print("The draw does NOT verify:")
        for problem in report.problems:
            print(f"  - {problem}")
        sys.exit(1)
    assert isinstance(certificate, dict)
    order = certificate.get("order", [])
    winners = int(certificate.get("winners", 0))
    checked = ["seed matches its commitment", "list digest matches"]
    if certificate.get("beacon"):
        checked.append(f"beacon round {certificate['beacon']['round']} signature valid")
    if args.chain:
        checked.append("chain log replays to the chain head")
    print(
        f"The draw is verified: {len(certificate.get('entries', []))} entries, "
        f"{', '.join(checked)}, winners {order[:winners]}, alternates {order[winners:]}."
    )


def cmd_makemigrations(args: argparse.Namespace) -> None:
    from tortoise.cli.cli import run_cli_async

    argv = ["-c", "contests.db.MIGRATIONS_CONFIG", "makemigrations"]
    if args.name:
        argv += ["-n", args.name]
    raise SystemExit(asyncio.run(run_cli_async(argv)))


def _migration_wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--migration-wait",
        type=float,
        default=MIGRATION_WAIT_SECONDS,
        metavar="SECONDS",
        help="how long to wait for pending migrations before giving up "
        f"(default {MIGRATION_WAIT_SECONDS:.0f})",
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="gymkana", description="Gymkana contest engine")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web app (WEB_PROCESSES processes)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--server",
        choices=SERVERS,
        default=DEFAULT_SERVER,
        help=f"the HTTP server (default {DEFAULT_SERVER}, the faster here)",
    )
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not apply migrations first; wait for `gymkana migrate` to apply them",
    )
    _migration_wait_option(serve)
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run the arq worker")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    _migration_wait_option(worker)
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    marketer = sub.add_parser("create-marketer", help="let EMAIL into a brand's console")
    marketer.add_argument("email")
    marketer.add_argument("--name")
    marketer.add_argument("--brand", help="slug of an existing brand")
    marketer.add_argument("--brand-name", help="create a brand with this name")
    marketer.add_argument("--domain", action="append", help="a domain of the brand's site")
    marketer.add_argument("--reply-to", help="the brand's reply-to address for emails")
    marketer.add_argument(
        "--role",
        choices=["owner", "editor", "viewer"],
        default="owner",
        help="what they may do on the brand (default: owner)",
    )
    marketer.set_defaults(func=cmd_create_marketer)

    demo = sub.add_parser("demo", help="seed a demo brand and run everything on SQLite")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--site-port", type=int, default=8001)
    demo.set_defaults(func=cmd_demo)

    verify = sub.add_parser("verify", help="check a draw certificate (JSON) offline")
    verify.add_argument("certificate")
    verify.add_argument(
        "--chain", help="the contest's entry chain log (chain.txt) to replay and check too"
    )
    verify.set_defaults(func=cmd_verify)

    make = sub.add_parser("makemigrations", help="(developers) write a migration for model changes")
    make.add_argument("--name")
    make.set_defaults(func=cmd_makemigrations)

    args = parser.parse_args(argv)
    args.func(args)

"""``cmdb serve``: the web server (GraphQL, the asset and audit pages, labels, imports)."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import click

from cmdb.cli.base import err, open_cmdb, run, settings_from, with_store
from cmdb.cli.demo import is_empty, load_demo


@click.command()
@with_store
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--demo", is_flag=True, help="Load the demo organisation first if the CMDB is empty.")
@click.option("--no-auth", is_flag=True,
              help="Demo mode: no sign-in, everyone is admin; loopback only (CMDB_AUTH=none).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--log-format", type=click.Choice(["json", "text"]), default=None,
              help="Log lines as JSON (default, CMDB_LOG_FORMAT) or plain text.")
def serve(store_url: str | None, db: Path | None, host: str, port: int, demo: bool,
          no_auth: bool, log_level: str, log_format: str | None) -> None:
    """Serve GraphQL (and GraphiQL in a browser) at http://HOST:PORT/graphql.

    Callers need an API token (`cmdb token create`) or a sign-in (`cmdb user create`);
    with --no-auth (demo mode) there is none, and the server binds to loopback only.
    """
    import uvicorn

    from cmdb.api.app import create_app
    from cmdb.api.serving import server_config
    from cmdb.api.web.logs import configure_logging

    settings = settings_from(store_url, db, auth="none" if no_auth else None,
                             log_format=log_format)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if settings.auth == "none" and not loopback:
        err.print("[red]error[/red] demo mode (--no-auth, CMDB_AUTH=none) has no sign-in, so "
                  "it serves on loopback only (127.0.0.1, ::1, localhost). Drop --no-auth to "
                  "serve on other addresses: callers then need an API token.")
        sys.exit(2)

    async def prepare() -> bool:
        async with open_cmdb(settings, create=True) as cmdb:
            if demo and await is_empty(cmdb):
                count = await load_demo(cmdb)
                err.print(f"Loaded the demo organisation: {count} CIs.")
            return await cmdb.auth.has_credentials()

    has_credentials = run(prepare)
    if settings.auth == "none":
        err.print("[bold yellow]" + "!" * 78 + "\nDEMO MODE, NO AUTHENTICATION: anyone on this "
                  "machine can read and change the CMDB.\nServing loopback only. Never use "
                  "this for real data (drop --no-auth / CMDB_AUTH=none).\n" + "!" * 78
                  + "[/bold yellow]")
    else:
        err.print("Authentication is on: send Authorization: Bearer <token>, or sign in at "
                  f"http://{host}:{port}/login")
        if not has_credentials:
            err.print("[yellow]No API tokens or users yet. Create the first one with:[/yellow]"
                      "\n  cmdb token create --name admin --role admin"
                      + (f" --db {db}" if db else ""))
    err.print(f"GraphiQL: http://{host}:{port}/graphql   store: {settings.store_url}   "
              f"times in: {settings.clock().label}")
    configure_logging(log_level, settings.log_format)
    if settings.trusted_proxies:
        err.print("Forwarded headers are believed from: "
                  + ", ".join(str(n) for n in settings.trusted_proxies))
    uvicorn.Server(server_config(create_app(settings), settings, host, port,
                                 log_level=log_level, log_config=None,
                                 access_log=False)).run()

"""``groundwire keys`` and ``groundwire users``: bootstrap access from the operator's shell.

These commands open only the store (no model is loaded). The first admin key of an
installation is made here; after that, tenant admins can use the admin API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from groundwire.cli.options import ConfigOpt, JsonOpt, TenantOpt
from groundwire.cli.output import emit, fail, load_cli_settings
from groundwire.errors import GroundwireError, NotFound

T = TypeVar("T")

keys_app: typer.Typer = typer.Typer(help="API keys: create (shown once), list, revoke.",
                                    no_args_is_help=True)
users_app: typer.Typer = typer.Typer(help="Users and their groups.", no_args_is_help=True)


def _with_store(config: Any, as_json: bool, work: Callable[[Any, Any], Awaitable[T]]) -> T:
    from groundwire.bootstrap import build_store

    try:
        settings = load_cli_settings(config)

        async def main() -> T:
            store = build_store(settings)
            await store.open()
            try:
                return await work(store, settings)
            finally:
                await store.close()

        return asyncio.run(main())
    except GroundwireError as exc:
        fail(exc, as_json)


@keys_app.command("create")
def create(
    user: Annotated[str, typer.Option("--user", "-u", help="User name (created if missing).")],
    scope: Annotated[list[str], typer.Option(
        "--scope", "-s", help="search, ask, ingest or admin (repeatable).")],
    tenant: TenantOpt = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    expires: Annotated[str | None, typer.Option(help="Lifetime, e.g. 30d, 12h, 90m.")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Create an API key. The key is printed once and cannot be shown again."""
    from groundwire.security.keys import create_key, parse_lifetime
    from groundwire.security.principal import Principal
    from groundwire.security.visibility import access_json, key_reach_note

    async def work(store: Any, settings: Any) -> Any:
        owner = tenant or settings.security.default_tenant
        key = await create_key(store, tenant=owner, user=user, scopes=scope, name=name,
                               expires_in=parse_lifetime(expires))
        if "admin" in key.scopes:
            return key, None  # an admin reads every document of the tenant
        # What this user reads now (groups as they are; `users set` changes them later).
        principal = Principal(tenant=owner, user=user, scopes=frozenset(key.scopes),
                              groups=frozenset(await store.user_groups(owner, user)))
        reach = await store.access_summary(tenant=owner, tokens=principal.reader_tokens())
        return key, reach

    key, reach = _with_store(config, as_json, work)
    out = {"id": key.id, "key": key.token, "tenant": key.tenant, "user": key.user,
           "scopes": list(key.scopes),
           "expires_at": key.expires_at.isoformat() if key.expires_at else None}
    if reach is not None:
        out["access"] = access_json(reach)
    if as_json:
        emit(out)
    else:
        typer.echo(key.token)
        typer.echo(f"id {key.id}  tenant {key.tenant}  user {key.user}  scopes "
                   f"{','.join(key.scopes)}  (store the key now: it is not shown again)",
                   err=True)
        if reach is not None:
            typer.echo(key_reach_note(reach, tenant=key.tenant, user=key.user), err=True)


@keys_app.command("list")
def list_keys(tenant: TenantOpt = None, as_json: JsonOpt = False,
              config: ConfigOpt = None) -> None:
    """List keys (metadata only; secrets are never stored)."""

    async def work(store: Any, settings: Any) -> Any:
        return await store.list_keys(tenant)

    rows = _with_store(config, as_json, work)
    if as_json:
        emit(rows)
        return
    for r in rows:
        state = "revoked" if r["revoked_at"] else "live"
        typer.echo(f"{r['id']}  {r['tenant']}/{r['user']}  {','.join(r['scopes'])}  {state}"
                   f"  expires {r['expires_at'] or 'never'}  {r['name']}")


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id (from keys list).")],
           as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Revoke a key: it stops working at the next request."""

    async def work(store: Any, settings: Any) -> bool:
        if not await store.revoke_key(key_id):
            raise NotFound(f"no live key {key_id}")
        return True

    _with_store(config, as_json, work)
    if as_json:
        emit({"revoked": key_id})
    else:
        typer.echo(f"revoked {key_id}")


@users_app.command("set")
def set_user(
    user: Annotated[str, typer.Argument(help="User name.")],
    group: Annotated[list[str] | None, typer.Option(
        "--group", "-g", help="Group the user is in (repeatable; replaces the user's groups).")]
    = None,
    tenant: TenantOpt = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Create USER if missing and set its groups (groups are created as needed)."""
    from groundwire.security.keys import check_name

    async def work(store: Any, settings: Any) -> list[str]:
        owner = tenant or settings.security.default_tenant
        check_name(owner, "tenant")
        check_name(user, "user")
        await store.ensure_user(owner, user)
        wanted = sorted({check_name(g, "group") for g in group or []})
        for name in set(await store.user_groups(owner, user)) - set(wanted):
            await store.remove_member(owner, name, user)
        for name in wanted:
            await store.ensure_group(owner, name)
            await store.add_member(owner, name, user)
        return await store.user_groups(owner, user)

    groups = _with_store(config, as_json, work)
    if as_json:
        emit({"user": user, "groups": groups})
    else:
        typer.echo(f"{user}: {', '.join(groups) or '(no groups)'}")


@users_app.command("list")
def list_users(tenant: TenantOpt = None, as_json: JsonOpt = False,
               config: ConfigOpt = None) -> None:
    """Users of a tenant with their groups."""

    async def work(store: Any, settings: Any) -> Any:
        return await store.list_users(tenant or settings.security.default_tenant)

    rows = _with_store(config, as_json, work)
    if as_json:
        emit([{"name": r["name"], "groups": list(r["groups"])} for r in rows])
        return
    for r in rows:
        typer.echo(f"{r['name']}: {', '.join(r['groups']) or '(no groups)'}")


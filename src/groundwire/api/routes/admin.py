"""Tenant administration (admin scope): users, groups and memberships, API keys. Everything is
scoped to the caller's tenant — another tenant's user, group or key is 404 — and every change
is written to the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from groundwire.api.deps import get_app, principal_store, require
from groundwire.api.schemas import ErrorResponse
from groundwire.app import Groundwire
from groundwire.errors import NotFound
from groundwire.security.keys import check_name, create_key, parse_lifetime
from groundwire.security.principal import SCOPES, Principal

router = APIRouter(prefix="/v1/admin", tags=["admin"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
    404: {"model": ErrorResponse}, 422: {"model": ErrorResponse},
}
NAME = r"^[A-Za-z0-9._@+-]{1,200}$"
Name = Annotated[str, Path(pattern=NAME)]
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]
Admin = Annotated[Principal, Depends(require("admin"))]
App = Annotated[Groundwire, Depends(get_app)]


class NameBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., pattern=NAME)


class KeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str = Field(..., pattern=NAME, description="Created in your tenant when missing.")
    scopes: list[str] = Field(..., min_length=1, max_length=4,
                              description=f"Subset of {list(SCOPES)}.")
    name: str = Field("", max_length=200, description="A label, e.g. what uses the key.")
    expires_in: str | None = Field(None, pattern=r"^\d{1,6}[dhm]$",
                                   description="Lifetime, e.g. 30d, 12h, 90m; none: no expiry.")


class KeyOut(BaseModel):
    id: str
    user: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewKeyOut(BaseModel):
    id: str
    key: str = Field(..., description="The secret key. Shown once: store it now.")
    user: str
    scopes: list[str]
    expires_at: datetime | None
    access: dict[str, Any] | None = Field(
        None, description="For a key without `admin`: the tenant's indexed documents "
        "(`indexed`), how many this user can read now (`readable`), how many only admins read "
        "(`admin_only`) and the setting that opens those (`opened_by`).")
    note: str | None = Field(None, description="The same, in words.")


class UserOut(BaseModel):
    name: str
    groups: list[str]


class GroupOut(BaseModel):
    name: str
    members: list[str]


async def _audit(gw: Groundwire, principal: Principal, action: str, target: str,
                 details: dict[str, Any] | None = None) -> None:
    audit = getattr(gw, "audit", None)
    if audit is not None:
        await audit.record(tenant=principal.tenant, actor=principal.name, action=action,
                           target=target, details=details or {})


# ----------------------------------------------------------------------------- keys
@router.post("/keys", status_code=201, response_model=NewKeyOut, responses=ERRORS,
             summary="Create an API key (the secret is returned once)")
async def create(body: KeyBody, gw: App, principal: Admin) -> NewKeyOut:
    key = await create_key(principal_store(gw), tenant=principal.tenant, user=body.user,
                           scopes=body.scopes, name=body.name,
                           expires_in=parse_lifetime(body.expires_in))
    await _audit(gw, principal, "key.create", key.id,
                 {"user": key.user, "scopes": list(key.scopes)})
    access, note = None, None
    if "admin" not in key.scopes:  # fail-closed permissions: say what this user can read
        from groundwire.security.visibility import access_json, key_reach_note

        groups = await principal_store(gw).user_groups(principal.tenant, key.user)
        reader = Principal(tenant=principal.tenant, user=key.user, scopes=frozenset(key.scopes),
                           groups=frozenset(groups))
        reach = await gw.store.access_summary(tenant=principal.tenant,
                                              tokens=reader.reader_tokens())
        access = access_json(reach)
        note = key_reach_note(reach, tenant=principal.tenant, user=key.user)
    return NewKeyOut(id=key.id, key=key.token, user=key.user, scopes=list(key.scopes),
                     expires_at=key.expires_at, access=access, note=note)


@router.get("/keys", response_model=list[KeyOut], responses=ERRORS,
            summary="API keys of your tenant (never their secrets)")
async def keys(gw: App, principal: Admin) -> list[KeyOut]:
    return [KeyOut(**{k: row[k] for k in KeyOut.model_fields})
            for row in await principal_store(gw).list_keys(principal.tenant)]


@router.delete("/keys/{key_id}", status_code=204, responses=ERRORS, summary="Revoke an API key")
async def revoke(key_id: KeyId, gw: App, principal: Admin) -> None:
    if not await principal_store(gw).revoke_key(key_id, principal.tenant):
        raise NotFound(f"no live key {key_id}")
    await _audit(gw, principal, "key.revoke", key_id)


# ----------------------------------------------------------------------------- users
@router.get("/users", response_model=list[UserOut], responses=ERRORS,
            summary="Users of your tenant with their groups")
async def users(gw: App, principal: Admin) -> list[UserOut]:
    return [UserOut(name=r["name"], groups=list(r["groups"]))
            for r in await principal_store(gw).list_users(principal.tenant)]


@router.post("/users", status_code=201, response_model=UserOut, responses=ERRORS,
             summary="Create a user")
async def create_user(body: NameBody, gw: App, principal: Admin) -> UserOut:
    await principal_store(gw).ensure_user(principal.tenant, check_name(body.name, "user"))
    await _audit(gw, principal, "user.create", body.name)
    return UserOut(name=body.name, groups=await principal_store(gw).user_groups(principal.tenant,
                                                                     body.name))


@router.delete("/users/{name}", status_code=204, responses=ERRORS,
               summary="Delete a user, its memberships and its keys")
async def delete_user(name: Name, gw: App, principal: Admin) -> None:
    if not await principal_store(gw).delete_user(principal.tenant, name):
        raise NotFound(f"no user {name!r}")
    await _audit(gw, principal, "user.delete", name)


# ----------------------------------------------------------------------------- groups
@router.get("/groups", response_model=list[GroupOut], responses=ERRORS,
            summary="Groups of your tenant with their members")
async def groups(gw: App, principal: Admin) -> list[GroupOut]:
    return [GroupOut(name=r["name"], members=list(r["members"]))
            for r in await principal_store(gw).list_groups(principal.tenant)]


@router.post("/groups", status_code=201, response_model=GroupOut, responses=ERRORS,
             summary="Create a group")
async def create_group(body: NameBody, gw: App, principal: Admin) -> GroupOut:
    await principal_store(gw).ensure_group(principal.tenant, check_name(body.name, "group"))
    await _audit(gw, principal, "group.create", body.name)
    return GroupOut(name=body.name, members=[])


@router.delete("/groups/{name}", status_code=204, responses=ERRORS,
               summary="Delete a group (its members lose what it granted at once)")
async def delete_group(name: Name, gw: App, principal: Admin) -> None:
    if not await principal_store(gw).delete_group(principal.tenant, name):
        raise NotFound(f"no group {name!r}")
    await _audit(gw, principal, "group.delete", name)


@router.put("/groups/{name}/members/{user}", status_code=204, responses=ERRORS,
            summary="Add a user to a group")
async def add_member(name: Name, user: Name, gw: App, principal: Admin) -> None:
    await principal_store(gw).add_member(principal.tenant, name, user)
    await _audit(gw, principal, "group.add_member", name, {"user": user})


@router.delete("/groups/{name}/members/{user}", status_code=204, responses=ERRORS,
               summary="Remove a user from a group")
async def remove_member(name: Name, user: Name, gw: App, principal: Admin) -> None:
    if not await principal_store(gw).remove_member(principal.tenant, name, user):
        raise NotFound(f"{user!r} is not a member of {name!r}")
    await _audit(gw, principal, "group.remove_member", name, {"user": user})

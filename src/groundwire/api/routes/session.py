"""The web app's browser session: sign-in with an API key, the session cookie, CSRF, pages.

Contracts (docs/web.md explains the choices):

* ``POST /signin`` verifies the key (``security/keys.py``) and sets ``gw_session``: the key
  **encrypted and authenticated** with Fernet (AES-128-CBC + HMAC-SHA256, ``cryptography``)
  under a server secret kept in ``<data_dir>/web-session.key`` (created 0600 on first use;
  replicas sharing ``data_dir`` share it). The cookie is ``HttpOnly``, ``SameSite=Strict``,
  ``Path=/``, ``Secure`` over HTTPS, and expires after ``SESSION_TTL_S`` (the token carries
  its own timestamp, checked on every request). The raw key is never in a cookie in clear,
  never logged, never rendered.
* ``WebSessionMiddleware`` (outermost) turns a valid session cookie into the request's
  ``Authorization: Bearer`` header, so every API route (and its scope checks, rate limits,
  audit) treats a signed-in browser exactly like the key itself; a revoked or expired key
  fails there like the key would. Requests that bring their own ``Authorization`` header are
  left alone, and so are requests without the cookie.
* CSRF, double-submit: every page sets ``gw_csrf`` (random, readable by the page's script,
  ``SameSite=Strict``) and puts the same value in its forms (``csrf_token``) and in
  ``<meta name="csrf-token">``. An unsafe method riding on the session cookie must echo it:
  API calls in the ``X-CSRF-Token`` header (checked here: ``403 auth.csrf``), page forms in
  the field (checked by ``form_data`` in the form's route). Mismatch or absence: 403.
* Pages (``/app``, ``/admin``) without a session in keyed mode redirect to ``/signin``. In dev
  mode (loopback only, ``security.dev_mode``) the browser is signed in automatically: a request
  without a key acts as the default tenant's admin, as for the API.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from groundwire.api.deps import bearer, current_principal, get_app, principal_store
from groundwire.api.errors import error_response
from groundwire.app import Groundwire
from groundwire.errors import Forbidden, GroundwireError, Unauthenticated
from groundwire.security.keys import authenticate
from groundwire.security.principal import Principal
from groundwire.settings import Settings

log = logging.getLogger("groundwire.web")

SESSION_COOKIE = "gw_session"
CSRF_COOKIE = "gw_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_TTL_S = 12 * 3600
SECRET_FILE = "web-session.key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PAGE_PREFIXES = ("/app", "/admin")
# Form posts to these check ``csrf_token`` in their own route (the middleware cannot read a
# form body without consuming it); everything else must send the header.
FORM_PREFIXES = ("/app", "/admin", "/signin", "/signout")

router = APIRouter(include_in_schema=False)


# ----------------------------------------------------------------------------- the token
class SessionCodec:
    """Seals an API key into a session token and opens it again (Fernet, with a TTL)."""

    def __init__(self, secret: bytes, ttl_s: int = SESSION_TTL_S) -> None:
        self._fernet = Fernet(secret)
        self.ttl_s = ttl_s

    def seal(self, key: str) -> str:
        return self._fernet.encrypt(json.dumps({"k": key}).encode()).decode()

    def open(self, token: str) -> str | None:
        """The key sealed in ``token``; None when forged, tampered with or expired."""
        try:
            data = json.loads(self._fernet.decrypt(token.encode(), ttl=self.ttl_s))
        except (InvalidToken, ValueError):
            return None
        key = data.get("k") if isinstance(data, dict) else None
        return key if isinstance(key, str) else None


def load_secret(data_dir: Path) -> bytes:
    """The server's session secret: ``<data_dir>/web-session.key``, created once (0600)."""
    path = Path(data_dir) / SECRET_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker won the race: use its secret
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(secret)
    return secret


def _cookies(scope: Scope) -> dict[str, str]:
    from http.cookies import SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header: treat as none
                return {}
    return {k: m.value for k, m in jar.items()}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def csrf_matches(cookie: str | None, sent: str | None) -> bool:
    return bool(cookie and sent) and hmac.compare_digest(str(cookie), str(sent))


class WebSessionMiddleware:
    """See the module docstring. Pure ASGI, so streamed answers pass through untouched."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._codec: SessionCodec | None = None

    @property
    def codec(self) -> SessionCodec:
        if self._codec is None:
            self._codec = SessionCodec(load_secret(self.settings.data_dir))
        return self._codec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["session_codec"] = self.codec
        path, method = scope.get("path", ""), scope.get("method", "GET")
        has_auth = _header(scope, b"authorization") is not None
        cookies = _cookies(scope) if not has_auth else {}
        token = cookies.get(SESSION_COOKIE)
        key = self.codec.open(token) if token else None
        if key is not None:
            if method not in SAFE_METHODS and not path.startswith(FORM_PREFIXES) and \
                    not csrf_matches(cookies.get(CSRF_COOKIE), _header(scope, b"x-csrf-token")):
                response: Response = error_response(
                    Request(scope), 403, "auth.csrf",
                    "a signed-in browser request must send the page's CSRF token "
                    "(X-CSRF-Token header)")
                await response(scope, receive, send)
                return
            headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            headers.append((b"authorization", f"Bearer {key}".encode("latin-1")))
            scope["headers"] = headers
            scope["state"]["web_session"] = True
        elif (path.startswith(PAGE_PREFIXES) and not has_auth and method in SAFE_METHODS
              and not self.settings.security.dev_mode):
            response = RedirectResponse(signin_url(path), status_code=303)
            if token:
                response.delete_cookie(SESSION_COOKIE, path="/")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, _no_store(send) if path.startswith(PAGE_PREFIXES)
                       else send)


def _no_store(send: Send) -> Send:
    """Signed-in pages are never cached (a shared browser's back button shows nothing)."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []),
                                  (b"cache-control", b"no-store")]
        await send(message)

    return wrapped


def signin_url(next_path: str = "/app") -> str:
    return "/signin?next=" + quote(safe_next(next_path), safe="/")


def safe_next(value: str | None) -> str:
    """Only a local page path: never another origin (``//host``, ``https:``, ``/\\host``)."""
    if (not value or not value.startswith("/") or value.startswith("//")
            or "\\" in value or ":" in value.split("?")[0]):
        return "/app"
    return value


# ----------------------------------------------------------------------------- rendering
_env: Any = None


def templates() -> Any:
    """The Jinja2 environment over ``groundwire/web/templates`` (autoescaped; created once)."""
    global _env
    if _env is None:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        folder = resources.files("groundwire.web") / "templates"
        _env = Environment(loader=FileSystemLoader(str(folder)),
                           autoescape=select_autoescape(default=True), trim_blocks=True,
                           lstrip_blocks=True)
    return _env


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           status: int = 200, principal: Principal | None = None) -> HTMLResponse:
    """Render a page; sets the CSRF cookie when the browser has none yet."""
    token = request.cookies.get(CSRF_COOKIE) or ""
    fresh = not token
    if fresh:
        token = secrets.token_urlsafe(32)
    gw = getattr(request.app.state, "groundwire", None)
    dev = bool(gw is not None and gw.settings.security.dev_mode)
    page = templates().get_template(template).render(
        csrf_token=token, principal=principal, dev_mode=dev, path=request.url.path,
        signed_in=bool(getattr(request.state, "web_session", False)), **(context or {}))
    response = HTMLResponse(page, status_code=status)
    if fresh:
        response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="strict", path="/",
                            secure=request.url.scheme == "https")
    return response


async def form_data(request: Request) -> FormData:
    """The posted form, after the double-submit CSRF check (``Forbidden`` auth.csrf)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not csrf_matches(request.cookies.get(CSRF_COOKIE), sent if isinstance(sent, str)
                        else None):
        raise Forbidden("the form's CSRF token does not match this browser's: reload the "
                        "page and try again", code="auth.csrf")
    return form


async def viewer(request: Request, gw: Groundwire) -> Principal | Response:
    """The signed-in principal of a page, or a redirect to sign-in (expired/revoked key)."""
    try:
        return await current_principal(request, await bearer(request), gw)
    except Unauthenticated:
        response = RedirectResponse(signin_url(request.url.path), status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def error_page(request: Request, error: GroundwireError, status: int,
               principal: Principal | None = None) -> HTMLResponse:
    """A coded error as a page (the same code and message the API would send)."""
    return render(request, "error.html", {"code": error.code, "message": error.message,
                                          "status": status},
                  status=status, principal=principal)


# ----------------------------------------------------------------------------- sign-in
@router.get("/signin", response_class=HTMLResponse)
async def signin_page(request: Request, next: str = "/app") -> Response:
    gw: Groundwire = request.app.state.groundwire
    if gw.settings.security.dev_mode or getattr(request.state, "web_session", False):
        return RedirectResponse(safe_next(next), status_code=303)  # already signed in
    return render(request, "signin.html", {"next": safe_next(next)})


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request, gw: Groundwire = Depends(get_app)) -> Response:
    try:
        form = await form_data(request)
    except Forbidden as exc:
        return render(request, "signin.html", {"next": "/app", "error": exc}, status=403)
    key = str(form.get("key") or "").strip()
    target = safe_next(str(form.get("next") or "/app"))
    try:
        principal = await authenticate(principal_store(gw), key or None)
    except Unauthenticated as exc:
        log.info("web sign-in refused", extra={"code": exc.code})  # never the key
        return render(request, "signin.html", {"next": target, "error": exc}, status=401)
    codec: SessionCodec = request.scope["state"]["session_codec"]
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, codec.seal(key), max_age=codec.ttl_s, httponly=True,
                        samesite="strict", path="/", secure=request.url.scheme == "https")
    log.info("web sign-in", extra={"principal": principal.name, "key_id": principal.key_id})
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    await form_data(request)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

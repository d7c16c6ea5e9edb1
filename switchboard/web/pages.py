"""What every server-rendered page shares: the templates, the session behind the cookie,
CSRF checks, security headers, and the login and logout routes.

CSRF: every form carries the session's token and every POST compares it in constant time;
the login form, which has no session yet, uses a double-submit cookie. Cookies are
HttpOnly and SameSite=Lax (Secure when the portal's base URL is https). Pages send a
Content-Security-Policy without inline scripts, so customer text that slipped past
autoescaping still could not run.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.templating import Jinja2Templates

from switchboard.desk import accounts
from switchboard.desk.accounts import Session
from switchboard.outbox.templates import DEFAULT_DIR

SESSION_COOKIE = "sb_session"
LOGIN_CSRF_COOKIE = "sb_login_csrf"
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' "
                               "'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """No live session: the page answers with a redirect to the login form."""


def templates_for(directory: str | None) -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(str(Path(directory) if directory
                                                  else DEFAULT_DIR)),
                      autoescape=select_autoescape(["html", "html.j2"]))
    env.filters["vnd"] = lambda n: f"{int(n or 0):,}".replace(",", ".") + " ₫"
    return Jinja2Templates(env=env)


def rt_of(request: Request) -> Any:
    return request.app.state.runtime


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    pages: Jinja2Templates = request.app.state.pages
    response = pages.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(HEADERS)
    return response


def _secure(request: Request) -> bool:
    return bool(rt_of(request).settings.portal.base_url.startswith("https://"))


def current(request: Request, role: str | None = None) -> Session:
    """The live session of this request, or LoginRequired; a wrong role is 403."""
    rt = rt_of(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    with rt.db.write() as conn:
        session = accounts.session_for(conn, rt.settings, token, rt.clock.now())
    if session is None:
        raise LoginRequired()
    if role is not None and session.user.role != role:
        raise HTTPException(403, "this page is not for your account")
    return session


def check_csrf(session: Session, form: Any) -> None:
    sent = str(form.get("csrf") or "")
    if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise HTTPException(403, "the form expired or did not come from this site: reload it")


def home_for(session: Session) -> str:
    return "/dashboard" if session.user.role == "manager" else "/portal"


@router.get("/login")
def login_form(request: Request, next: str = "", error: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "web/login.html.j2", csrf=token, next=_safe_next(next),
                      error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure(request), max_age=3600, path="/login")
    return response


def _safe_next(target: str) -> str:
    """Only our own pages: no open redirect through the login form."""
    if target.startswith(("/portal", "/dashboard")) and "//" not in target and "\\" not in target:
        return target
    return ""


@router.post("/login")
async def login(request: Request) -> Response:
    rt = rt_of(request)
    form = await request.form()
    sent = str(form.get("csrf") or "")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPException(403, "the login form expired: reload it")
    email = accounts.login_key(str(form.get("email") or ""))
    password = str(form.get("password") or "")[:1024]
    address = request.client.host if request.client else "?"
    next_page = _safe_next(str(form.get("next") or ""))
    outcome = await run_in_threadpool(_log_in, rt, email, password, address,
                                      request.cookies.get(SESSION_COOKIE))
    if isinstance(outcome, str):  # "throttled"
        minutes = int(rt.settings.portal.failure_window.total_seconds() // 60)
        response = render(request, "web/login.html.j2", status_code=429, csrf=sent,
                          next=next_page,
                          error=f"Quá nhiều lần đăng nhập sai, thử lại sau {minutes} phút "
                                f"/ too many failed logins, try again in {minutes} minutes")
        response.headers["Retry-After"] = str(minutes * 60)
        return response
    if outcome is None:
        return render(request, "web/login.html.j2", status_code=401, csrf=sent,
                      next=next_page,
                      error="Email hoặc mật khẩu không đúng / wrong email or password")
    token, session = outcome
    assert session is not None
    target = next_page or home_for(session)
    redirect = RedirectResponse(target, status_code=303)
    redirect.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=_secure(request), path="/",
                        max_age=int(rt.settings.portal.session_ttl.total_seconds()))
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return redirect


def _log_in(rt: Any, email: str, password: str, address: str, old: str | None
            ) -> Literal["throttled"] | tuple[str, Session] | None:
    """In a worker thread: "throttled", None for a refusal, or the new session. The
    password is checked in a read transaction (argon2 is slow on purpose; no write lock is
    held meanwhile) and the outcome written after, briefly."""
    now = rt.clock.now()
    with rt.db.read() as conn:
        if accounts.throttled(conn, rt.settings, email, address, now):
            return "throttled"
        checked = accounts.check_password(conn, rt.settings, email, password)
    with rt.db.write() as conn:
        if accounts.throttled(conn, rt.settings, email, address, now):
            return "throttled"  # others failed meanwhile: the limit holds under a race
        accounts.record_login(conn, email, address, checked, now)
        if checked.user_id is None:
            return None
        if old:
            accounts.close_session(conn, old)
        token, _ = accounts.open_session(conn, rt.settings, checked.user_id, now)
        session = accounts.session_for(conn, rt.settings, token, now)
    assert session is not None
    return token, session


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = current(request)
    check_csrf(session, await request.form())
    rt = rt_of(request)
    with rt.db.write() as conn:
        accounts.close_session(conn, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

"""People who log in to the web portal: suppliers' staff and the marketplace's managers.

Passwords are hashed with argon2id (argon2-cffi, the reference implementation's binding) so
a stolen table costs an attacker real memory per guess. A session is a random token in an
HttpOnly cookie; the store keeps only its SHA-256, so the sessions table is no key to any
account. A new session is minted at every login and never taken from the client (no
session fixation). Failed logins are counted per email and per address in the store, so the
limit holds across restarts and processes.

A supplier's staff member belongs to one supplier. Marketplace staff have no supplier; what
they may see comes from `agents:` in the configuration (matched by email): the role is
configuration, not a database flag someone can forget to revoke.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, func, insert, select, update

from switchboard.settings import AgentSettings, Settings
from tickets.identities import normalize_email
from tickets.schema import (
    login_failures,
    portal_sessions,
    portal_users,
    suppliers,
)

_hasher = PasswordHasher()
# verified against when the email is unknown, so both answers take the same time
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
MIN_PASSWORD = 10


class AccountError(ValueError):
    """A user that cannot be created or changed, with the reason."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    name: str
    supplier_id: str | None
    supplier_name: str | None
    role: str  # "supplier" or "manager"
    departments: tuple[str, ...]  # a manager's departments; empty: all


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf: str
    token_hash: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def manager_for(settings: Settings, email: str) -> AgentSettings | None:
    for agent in settings.agents:
        if agent.role == "manager" and agent.email and agent.email.lower() == email:
            return agent
    return None


def add_user(conn: Connection, settings: Settings, email: str, name: str, password: str,
             supplier_id: str | None, now: datetime) -> int:
    """Creates (or resets the password of) a portal user. What a supplier's user raises from
    the portal is the supplier speaking (the portal says which supplier), and they get the
    supplier's mail while their account is enabled; they are not added to the supplier's
    contacts, which the catalog import owns."""
    address = normalize_email(email)
    if address is None:
        raise AccountError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if supplier_id is not None:
        if conn.execute(select(suppliers.c.id).where(suppliers.c.id == supplier_id)
                        ).first() is None:
            raise AccountError(f"no supplier {supplier_id!r}: import it first")
    elif manager_for(settings, address) is None:
        raise AccountError(f"{address} is neither a supplier's user (--supplier) nor a manager "
                           "in agents: (role: manager, with this email)")
    hashed = _hasher.hash(password)
    existing = conn.execute(select(portal_users.c.id).where(
        portal_users.c.email == address)).scalar()
    if existing is not None:
        conn.execute(update(portal_users).where(portal_users.c.id == existing).values(
            name=name, supplier_id=supplier_id, password_hash=hashed, disabled=False))
        conn.execute(delete(portal_sessions).where(portal_sessions.c.user_id == existing))
        user_id = int(existing)
    else:
        user_id = int(conn.execute(insert(portal_users).values(
            email=address, name=name, supplier_id=supplier_id, password_hash=hashed,
            disabled=False, created_at=now)).inserted_primary_key[0])  # type: ignore[index]
    return user_id


def disable_user(conn: Connection, email: str) -> bool:
    address = normalize_email(email) or email
    found = conn.execute(select(portal_users.c.id).where(portal_users.c.email == address)
                         ).scalar()
    if found is None:
        return False
    conn.execute(update(portal_users).where(portal_users.c.id == found).values(disabled=True))
    conn.execute(delete(portal_sessions).where(portal_sessions.c.user_id == found))
    return True


def login_key(email: str) -> str:
    """The one spelling of an email that throttling, failures and lookups all use."""
    return normalize_email(email) or email.strip().lower()[:320]


def throttled(conn: Connection, settings: Settings, email: str, address: str,
              now: datetime) -> bool:
    """Too many recent failures for this email (as `login_key` spells it) or address."""
    since = now - settings.portal.failure_window
    counts: dict[str, int] = dict(conn.execute(
        select(login_failures.c.key, func.count())
        .where(login_failures.c.key.in_([f"email:{email}", f"ip:{address}"]),
               login_failures.c.at >= since)
        .group_by(login_failures.c.key)).all())
    return bool(counts.get(f"email:{email}", 0) >= settings.portal.max_failures_per_email
                or counts.get(f"ip:{address}", 0) >= settings.portal.max_failures_per_ip)


@dataclass(frozen=True, slots=True)
class Checked:
    user_id: int | None  # None: refused
    rehash: str | None = None  # a new hash when the parameters got stronger


def check_password(conn: Connection, settings: Settings, email: str, password: str
                   ) -> Checked:
    """Reads only; argon2 takes real time on purpose, so no write lock is held meanwhile.
    `email` is a `login_key`."""
    row = conn.execute(select(portal_users.c.id, portal_users.c.password_hash,
                              portal_users.c.disabled, portal_users.c.supplier_id)
                       .where(portal_users.c.email == email)).first()
    ok: bool
    try:
        ok = _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    usable = row is not None and not row.disabled and (
        row.supplier_id is not None or manager_for(settings, email) is not None)
    if row is None or not (ok and usable):
        return Checked(None)
    rehash = _hasher.hash(password) if _hasher.check_needs_rehash(row.password_hash) else None
    return Checked(int(row.id), rehash)


def record_login(conn: Connection, email: str, address: str, checked: Checked,
                 now: datetime) -> None:
    """Count a failure (per email and per address), or clear the email's on success."""
    if checked.user_id is None:
        conn.execute(insert(login_failures), [{"key": f"email:{email}", "at": now},
                                              {"key": f"ip:{address}", "at": now}])
        return
    conn.execute(delete(login_failures).where(login_failures.c.key == f"email:{email}"))
    if checked.rehash is not None:
        conn.execute(update(portal_users).where(portal_users.c.id == checked.user_id)
                     .values(password_hash=checked.rehash))


def open_session(conn: Connection, settings: Settings, user_id: int, now: datetime
                 ) -> tuple[str, str]:
    """A fresh (token, csrf) pair; only the token's hash is stored."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    conn.execute(insert(portal_sessions).values(
        token_hash=_token_hash(token), user_id=user_id, csrf=csrf, created_at=now,
        last_seen_at=now, expires_at=now + settings.portal.session_ttl))
    conn.execute(delete(portal_sessions).where(portal_sessions.c.expires_at < now))
    return token, csrf


def session_for(conn: Connection, settings: Settings, token: str, now: datetime
                ) -> Session | None:
    """The live session behind a cookie, touched; None if unknown, expired or idle."""
    if not token or len(token) > 128:
        return None
    hashed = _token_hash(token)
    row = conn.execute(
        select(portal_sessions.c.csrf, portal_sessions.c.last_seen_at,
               portal_sessions.c.expires_at, portal_users.c.id, portal_users.c.email,
               portal_users.c.name, portal_users.c.supplier_id, portal_users.c.disabled,
               suppliers.c.name.label("supplier_name"))
        .join(portal_users, portal_users.c.id == portal_sessions.c.user_id)
        .outerjoin(suppliers, suppliers.c.id == portal_users.c.supplier_id)
        .where(portal_sessions.c.token_hash == hashed)).first()
    if row is None or row.disabled:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= settings.portal.session_idle:
        conn.execute(delete(portal_sessions).where(portal_sessions.c.token_hash == hashed))
        return None
    departments: tuple[str, ...] = ()
    if row.supplier_id is not None:
        role = "supplier"
    else:
        manager = manager_for(settings, row.email)
        if manager is None:  # no longer a manager in the configuration
            return None
        role, departments = "manager", manager.departments
    if (now - row.last_seen_at).total_seconds() > 60:
        conn.execute(update(portal_sessions).where(portal_sessions.c.token_hash == hashed)
                     .values(last_seen_at=now))
    user = User(row.id, row.email, row.name, row.supplier_id, row.supplier_name, role,
                tuple(departments))
    return Session(user, row.csrf, hashed)


def close_session(conn: Connection, token: str) -> None:
    conn.execute(delete(portal_sessions).where(portal_sessions.c.token_hash == _token_hash(token)))

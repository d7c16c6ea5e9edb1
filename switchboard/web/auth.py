"""Bearer tokens with roles, from the configuration.

Tokens are compared in constant time. A manager token may be scoped to departments; it
then sees only those departments' tickets.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from switchboard.settings import TokenSettings

ROLE_RANK = {"agent": 0, "manager": 1, "admin": 2}


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str
    departments: tuple[str, ...]

    def at_least(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def authenticate(request: Request, tokens: tuple[TokenSettings, ...]) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    given = credential.strip().encode()
    found: TokenSettings | None = None
    for token in tokens:
        if token.token and hmac.compare_digest(token.token.encode(), given):
            found = token
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    return Principal(found.name, found.role, found.departments)

"""Our mailboxes and their plus-addresses: `hotro@shop.vn` answers for itself and for
`hotro+<token>@shop.vn`, the Reply-To of every mail we send, whose token names a ticket."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Mailbox:
    address: str
    name: str = ""

    @property
    def local(self) -> str:
        return self.address.split("@", 1)[0].lower()

    @property
    def domain(self) -> str:
        return self.address.split("@", 1)[1].lower()

    def plus(self, token: str) -> str:
        return f"{self.local}+{token}@{self.domain}"


class Mailboxes:
    def __init__(self, mailboxes: Iterable[Mailbox]) -> None:
        self._by_address = {m.address.lower(): m for m in mailboxes}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_address.values())

    def __bool__(self) -> bool:
        return bool(self._by_address)

    def resolve(self, address: str) -> tuple[Mailbox, str | None] | None:
        """(mailbox, plus token) when `address` is one of ours, else None."""
        local, _, domain = address.strip().strip("<>").lower().partition("@")
        base, _, token = local.partition("+")
        mailbox = self._by_address.get(f"{base}@{domain}")
        if mailbox is None:
            return None
        return mailbox, (token or None)

    def is_ours(self, address: str | None) -> bool:
        return address is not None and self.resolve(address) is not None

    def first_of(self, addresses: Iterable[str]) -> tuple[Mailbox, str | None] | None:
        for address in addresses:
            found = self.resolve(address)
            if found is not None:
                return found
        return None

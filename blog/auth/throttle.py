"""Login throttling: every attempt takes a ticket before the password is checked.

Counted per account (whichever of its names or e-mail was typed) and address, in the
database, so every process of the blog sees the same counts. A ticket is taken inside
one write transaction, so forty guesses sent at once get exactly as many password checks
as the limit allows. A sign-in that succeeds hands its ticket back: only failures count.

An attacker who locks an account from one address does not lock its owner out: the
owner's address has its own count, and the account as a whole allows many more.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from .. import clock
from ..database import writing
from ..extensions import db
from ..models import LoginAttempt, User

WINDOW = timedelta(minutes=15)
PER_ACCOUNT_AND_ADDRESS = 10
PER_ACCOUNT = 100  # from every address together
PER_ADDRESS = 50  # any accounts; a newsroom behind one NAT shares it


@dataclass(frozen=True)
class Ticket:
    """One reserved attempt; `refund` it when the sign-in succeeds."""

    id: int


def account_key(user: User | None, typed_login: str) -> str:
    """The same key for a user's name and e-mail; unknown names count by what was typed."""
    if user is not None:
        return f"user:{user.id}"
    return "name:" + typed_login.strip().lower()[:250]


def address_key(address: str) -> str:
    """Who is asking: an IPv4 address, or the /64 network of an IPv6 one (one home or
    one server gets a whole /64, so single IPv6 addresses cost an attacker nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _over_a_limit(key: str, address: str, since: datetime) -> bool:
    recent = select(func.count(LoginAttempt.id)).where(LoginAttempt.created_at >= since)
    counts = (
        (recent.where(LoginAttempt.account_key == key,
                      LoginAttempt.address == address), PER_ACCOUNT_AND_ADDRESS),
        (recent.where(LoginAttempt.account_key == key), PER_ACCOUNT),
        (recent.where(LoginAttempt.address == address), PER_ADDRESS),
    )  # fmt: skip
    return any(db.session.execute(query).scalar_one() >= limit for query, limit in counts)


def take_ticket(key: str, address: str) -> Ticket | None:
    """Reserve one attempt, or None when a limit is reached (answer 429, check nothing)."""
    now = clock.now()
    since = now - WINDOW
    address = address_key(address)
    # Refused attempts are answered from a read: a flood of them never takes the lock.
    if _over_a_limit(key, address, since):
        return None
    with writing():
        # Counted again under the write lock, which makes taking the ticket atomic.
        if _over_a_limit(key, address, since):
            return None
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < since))
        attempt = LoginAttempt(account_key=key, address=address, created_at=now)
        db.session.add(attempt)
        db.session.flush()
        return Ticket(attempt.id)


def refund(ticket: Ticket) -> None:
    """A successful sign-in does not count against anyone."""
    with writing():
        db.session.execute(delete(LoginAttempt).where(LoginAttempt.id == ticket.id))

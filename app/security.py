"""Roles, principals, bearer tokens and password hashing. No FastAPI import."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType

import jwt

TOKEN_ALGORITHM = "HS256"
TOKEN_AUDIENCE = "rescue-circle"


class Role(StrEnum):
    volunteer = "volunteer"
    dispatcher = "dispatcher"
    community_admin = "community_admin"
    district_admin = "district_admin"
    city_admin = "city_admin"
    auditor = "auditor"
    device = "device"


class ConsoleRole(StrEnum):
    """Roles that sign in with a password at the console."""

    dispatcher = "dispatcher"
    community_admin = "community_admin"
    district_admin = "district_admin"
    city_admin = "city_admin"
    auditor = "auditor"


ADMIN_ROLES = frozenset({Role.community_admin, Role.district_admin, Role.city_admin})
READ_ROLES = ADMIN_ROLES | {Role.dispatcher, Role.auditor}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling. ``region_path`` bounds what a non-volunteer may see and change."""

    role: Role
    subject: str
    region_id: int | None = None
    region_path: str | None = None
    volunteer_id: int | None = None

    @property
    def actor(self) -> str:
        """Who did something, as records store it: the volunteer by id (however they signed
        in), or a console user's subject."""
        if self.role is Role.volunteer:
            return volunteer_actor(self.volunteer_id)
        return self.subject


def volunteer_actor(volunteer_id: int | None) -> str:
    return f"volunteer:{volunteer_id}"


class InvalidToken(Exception):
    pass


def issue_token(
    *,
    secret_key: str,
    role: Role,
    subject: str,
    region_id: int | None,
    volunteer_id: int | None = None,
    ttl_s: int,
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": subject,
        "role": role.value,
        "aud": TOKEN_AUDIENCE,
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=ttl_s)).timestamp()),
    }
    if region_id is not None:
        claims["region_id"] = region_id
    if volunteer_id is not None:
        claims["volunteer_id"] = volunteer_id
    return jwt.encode(claims, secret_key, algorithm=TOKEN_ALGORITHM)


def read_token(token: str, *, secret_key: str, now: float | None = None) -> dict[str, object]:
    """The claims of a token signed with ``secret_key`` that has not expired at ``now``
    (seconds since the epoch; default: the current time)."""
    claims = _verified_claims(token, secret_key)
    expiry = claims["exp"]
    if isinstance(expiry, bool) or not isinstance(expiry, int | float):
        raise InvalidToken("Expiration Time claim (exp) must be an integer.")
    if expiry <= (time.time() if now is None else now):
        raise InvalidToken("Signature has expired")
    return dict(claims)


@lru_cache(maxsize=4096)
def _verified_claims(token: str, secret_key: str) -> Mapping[str, object]:
    """Signature, audience, required claims and role of a token, checked once per token:
    a client sends the same token with every request, and PyJWT's checks showed in every
    request's profile. Only tokens that pass are kept; ``read_token`` checks
    the expiry at every use."""
    try:
        claims = jwt.decode(token, secret_key, algorithms=[TOKEN_ALGORITHM],
                            audience=TOKEN_AUDIENCE,
                            options={"require": ["exp", "sub", "role"], "verify_exp": False})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    try:
        Role(str(claims["role"]))
    except ValueError as exc:
        raise InvalidToken("unknown role") from exc
    return MappingProxyType(claims)


# scrypt: memory-hard and in the standard library; n=2**14 costs ~50 ms per check here.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    encode = base64.b64encode
    return (f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}$"
            f"{encode(salt).decode()}${encode(digest).decode()}")


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64),
                            n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def mask_phone(phone: str) -> str:
    """``13812341234`` -> ``138****1234``; short numbers keep only their last two digits."""
    digits = phone.strip()
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 0) + digits[-2:]


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over ``id.timestamp.body``: signs webhooks we send and checks telemetry
    devices send us. Binding the id and the time stops replays and re-dating."""
    message = f"{message_id}.{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()

"""Sign-in: console users by password (throttled), volunteers through WeChat."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, TooManyRequests, Unauthorized, UpstreamUnavailable
from app.models import ConsoleUser, Volunteer
from app.models.base import utcnow
from app.models.volunteer import VolunteerStatus
from app.schemas.auth import TokenRead
from app.schemas.volunteer import normalise_phone
from app.security import ConsoleRole, Role, hash_password, issue_token, verify_password
from app.settings import Settings

# Checked against when the user does not exist, so a wrong name costs as long as a wrong
# password and user names cannot be probed by timing.
_DUMMY_HASH = hash_password("not-a-real-password")


def create_console_user(session: Session, *, username: str, password: str, role: ConsoleRole,
                        region_id: int) -> ConsoleUser:
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)):
        raise Conflict("username is already taken", field="username", code="duplicate")
    user = ConsoleUser(username=username, password_hash=hash_password(password),
                       role=role.value, region_id=region_id)
    session.add(user)
    session.flush()
    return user


def password_login(session: Session, settings: Settings, *, username: str, password: str
                   ) -> TokenRead | Unauthorized | TooManyRequests:
    """Failures are counted in the user's row; after ``login_max_failures`` the account waits
    ``login_lockout_s`` whatever the password. A refusal is returned, not raised: the
    failure count it records is committed with it (a unit of work that raises is rolled
    back whole)."""
    now = utcnow()
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return Unauthorized("Wrong user name or password", field="password")
    if user.locked_until is not None and user.locked_until > now:
        wait_s = int((user.locked_until - now).total_seconds()) + 1
        return TooManyRequests(f"Too many failed sign-ins; try again in {wait_s} s",
                               field="password", headers={"Retry-After": str(wait_s)})
    if not verify_password(password, user.password_hash):
        user.failed_logins += 1
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = now + timedelta(seconds=settings.login_lockout_s)
            user.failed_logins = 0
        session.flush()
        return Unauthorized("Wrong user name or password", field="password")
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    role = Role(user.role)
    token = issue_token(secret_key=settings.secret_key, role=role, subject=f"user:{user.id}",
                        region_id=user.region_id, ttl_s=settings.token_ttl_s)
    return TokenRead(access_token=token, expires_in=settings.token_ttl_s, role=role)


def exchange_wechat_code(settings: Settings, code: str) -> str:
    """Ask WeChat's ``jscode2session`` for the user's openid. The ``session_key`` it also
    returns is dropped here: it never leaves this function, never reaches a log."""
    if not settings.wechat_app_id or not settings.wechat_app_secret:
        raise UpstreamUnavailable("WeChat sign-in is not configured on this server")
    params = {"appid": settings.wechat_app_id, "secret": settings.wechat_app_secret,
              "js_code": code, "grant_type": "authorization_code"}
    try:
        with httpx.Client(base_url=settings.wechat_api_base, timeout=settings.wechat_timeout_s,
                          follow_redirects=False) as client:
            response = client.get("/sns/jscode2session", params=params)
            payload = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise UpstreamUnavailable(f"WeChat did not answer: {type(exc).__name__}") from exc
    if payload.get("errcode"):
        # 40029 invalid code, 40163 code already used, 45011 rate limited.
        raise Unauthorized(f"WeChat rejected the login code (errcode {payload['errcode']})",
                           field="code")
    openid = payload.get("openid")
    if not openid:
        raise UpstreamUnavailable("WeChat answered without an openid")
    return str(openid)


def wechat_login(session: Session, settings: Settings, *, code: str, phone: str | None
                 ) -> TokenRead:
    openid = exchange_wechat_code(settings, code)
    volunteer = session.scalar(select(Volunteer).where(Volunteer.wechat_openid == openid))
    if volunteer is None:
        if phone is None:
            raise NotFound("This WeChat account is not bound yet; give the registered phone "
                           "number", field="phone", code="not_bound")
        try:
            normalised = normalise_phone(phone)
        except ValueError as exc:
            raise Unauthorized(str(exc), field="phone") from exc
        volunteer = session.scalar(select(Volunteer).where(Volunteer.phone == normalised))
        if volunteer is None:
            raise NotFound("No volunteer is registered with this phone number", field="phone",
                           code="not_registered")
        if volunteer.wechat_openid is not None:
            raise Conflict("This volunteer is already bound to another WeChat account",
                           field="phone", code="already_bound")
        volunteer.wechat_openid = openid
        session.flush()
    if volunteer.status != VolunteerStatus.active:
        raise Unauthorized(f"Volunteer is {volunteer.status}", field="code")
    token = issue_token(secret_key=settings.secret_key, role=Role.volunteer,
                        subject=f"volunteer:{volunteer.id}", region_id=None,
                        volunteer_id=volunteer.id, ttl_s=settings.token_ttl_s)
    return TokenRead(access_token=token, expires_in=settings.token_ttl_s, role=Role.volunteer,
                     volunteer_id=volunteer.id)

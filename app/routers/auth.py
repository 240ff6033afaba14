"""Sign-in for console users (password) and volunteers (WeChat mini-program)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from app.deps import PUBLIC, DbSession, SettingsDep
from app.errors import (
    Conflict,
    NotFound,
    ProblemError,
    TooManyRequests,
    Unauthorized,
    UpstreamUnavailable,
    problem_response,
    problem_responses,
)
from app.schemas.auth import PasswordLogin, TokenRead, WechatLogin
from app.services import auth as service

router = APIRouter(prefix="/v1/auth", tags=["auth"], dependencies=[Depends(PUBLIC)])


@router.post("/token", operation_id="login_with_password", response_model=TokenRead,
             responses=problem_responses(Unauthorized, TooManyRequests))
def login_with_password(data: PasswordLogin, request: Request, session: DbSession,
                        settings: SettingsDep) -> Any:
    result = service.password_login(session, settings, username=data.username,
                                    password=data.password)
    if isinstance(result, ProblemError):
        # Answered, not raised: the request's session then commits the failure count.
        return problem_response(result, request)
    return result


@router.post("/wechat", operation_id="login_with_wechat", response_model=TokenRead,
             responses=problem_responses(Unauthorized, NotFound, Conflict, UpstreamUnavailable))
def login_with_wechat(data: WechatLogin, session: DbSession, settings: SettingsDep
                      ) -> TokenRead:
    return service.wechat_login(session, settings, code=data.code, phone=data.phone)

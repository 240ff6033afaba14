"""Sign-in I/O."""

from __future__ import annotations

from pydantic import Field

from app.schemas.common import InputModel, OutputModel
from app.security import Role


class PasswordLogin(InputModel):
    username: str = Field(min_length=1, max_length=64, description="Console user name.",
                          examples=["hexi-dispatch-01"])
    password: str = Field(min_length=1, max_length=256, description="Password.",
                          examples=["correct horse battery staple"])


class WechatLogin(InputModel):
    code: str = Field(min_length=1, max_length=256, description="Login code from `wx.login()`.",
                      examples=["0a3Xk2000aBcD1"])
    phone: str | None = Field(None, description="First sign-in only: the phone number the "
                              "admins registered, to bind this WeChat account.",
                              examples=["13812341234"])


class TokenRead(OutputModel):
    access_token: str = Field(description="Bearer token for the Authorization header.",
                              examples=["eyJhbGciOiJIUzI1NiIs..."])
    token_type: str = Field("bearer", description="Always `bearer`.", examples=["bearer"])
    expires_in: int = Field(description="Lifetime in seconds.", examples=[43200])
    role: Role = Field(description="Role the token carries.", examples=["dispatcher"])
    volunteer_id: int | None = Field(None, description="Volunteer id for volunteer tokens.",
                                     examples=[12])

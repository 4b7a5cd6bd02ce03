"""API routes for the signed-in user and their API tokens."""

from datetime import datetime

from ninja import Query, Router, Schema, Status

from guanxi.accounts import selectors, services
from guanxi.core.pagination import capped_count
from guanxi.core.schemas import Id, PageParams, Text

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    role: str
    team_id: int | None
    department_id: int | None
    language: str
    is_superuser: bool


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str


class TokenIn(Schema):
    name: Text(100) = ""


class TokenPage(Schema):
    items: list[TokenOut]
    count: int
    count_capped: bool


@router.get("/me", response=MeOut)
def me(request):
    return request.user


@router.get("/tokens", response=TokenPage)
def list_tokens(request, page: Query[PageParams]):
    queryset = selectors.user_tokens(request.user)
    count, capped = capped_count(queryset)
    return {"items": list(queryset[page.offset: page.offset + page.limit]), "count": count, "count_capped": capped}


@router.post("/tokens", response={201: TokenCreated})
def create_token(request, payload: TokenIn):
    """The raw token is in this response only; afterwards only its prefix is shown."""
    token, raw = services.create_api_token(user=request.user, name=payload.name, actor=request.user)
    token.token = raw
    return Status(201, token)


@router.delete("/tokens/{token_id}", response={204: None})
def revoke_token(request, token_id: Id):
    services.revoke_api_token(token=selectors.own_token(request.user, token_id), actor=request.user)
    return Status(204, None)

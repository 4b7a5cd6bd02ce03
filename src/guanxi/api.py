"""The JSON API at /api/v1/ (django-ninja): auth, error mapping and the domain routers."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from guanxi.accounts.tokens import authenticate_token
from guanxi.core.locking import StaleVersion


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user


class SessionCookie(APIKeyCookie):
    """The signed-in browser session (CSRF checked for unsafe methods)."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated and user.is_active else None


api = NinjaAPI(
    title="Guanxi API",
    version="1",
    urls_namespace="api",
    auth=[BearerToken(), SessionCookie(csrf=True)],
    docs_url="/docs",
)


def _detail(request, message, status):
    return api.create_response(request, {"detail": message}, status=status)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        detail = [{"loc": ["body", field], "msg": " ".join(str(m) for e in errors for m in e.messages)} for field, errors in exc.error_dict.items()]
    else:
        detail = [{"loc": ["body"], "msg": m} for m in exc.messages]
    status = 409 if getattr(exc, "code", None) == "duplicate" else 422
    return _detail(request, detail, status)


@api.exception_handler(NinjaValidationError)
def on_schema_error(request, exc: NinjaValidationError):
    return _detail(request, exc.errors, 422)


@api.exception_handler(StaleVersion)
def on_stale_version(request, exc: StaleVersion):
    return api.create_response(
        request,
        {"detail": "This record was changed by someone else; reload and apply your change again.", "current_version": exc.current.version},
        status=409,
    )


@api.exception_handler(IntegrityError)
def on_integrity_error(request, exc):
    return _detail(request, "The change conflicts with existing data.", 409)


@api.exception_handler(DataError)
def on_data_error(request, exc):
    return _detail(request, "A value is out of range for its field.", 422)


@api.exception_handler(OverflowError)
def on_overflow(request, exc):
    return _detail(request, "A number is out of range.", 422)


@api.exception_handler(ObjectDoesNotExist)
@api.exception_handler(Http404)
@api.exception_handler(PermissionDenied)
def on_not_found(request, exc):
    return _detail(request, "Not found.", 404)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return _detail(request, "Authentication required.", 401)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return _detail(request, str(exc), exc.status_code)


def _register_routers():
    from guanxi.accounts.api import router as accounts_router
    from guanxi.customers.api import router as customers_router
    from guanxi.engagement.api import router as engagement_router
    from guanxi.sales.api import router as sales_router
    from guanxi.care.api import router as care_router
    from guanxi.service.api import router as service_router

    api.add_router("", accounts_router)
    api.add_router("", customers_router)
    api.add_router("", sales_router)
    api.add_router("", engagement_router)

    from guanxi.insights.api import router as insights_router

    api.add_router("", insights_router)
    api.add_router("", service_router)
    api.add_router("", care_router)


_register_routers()

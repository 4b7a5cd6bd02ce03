from django.contrib import admin
from django.urls import include, path

from guanxi.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("accounts/", include("guanxi.accounts.urls")),
    path("customers/", include("guanxi.customers.urls")),
    path("", include("guanxi.sales.urls")),
    path("", include("guanxi.engagement.urls")),
    path("", include("guanxi.service.urls")),
    path("", include("guanxi.care.urls")),
    path("", include("guanxi.insights.urls")),
    path("", include("guanxi.web.urls")),
]

handler404 = "guanxi.web.views.not_found"

from django.urls import path

from guanxi.web import dashboard, views

app_name = "web"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("search/", views.search, name="search"),
]

from django.urls import path

from guanxi.insights import views

app_name = "insights"
urlpatterns = [
    path("insights/", views.home, name="home"),
    path("insights/runs/start/", views.run_start, name="run_start"),
    path("insights/runs/<int:pk>/", views.run_status, name="run"),
    path("insights/scores/", views.scores, name="scores"),
    path("insights/warnings/", views.warnings_inbox, name="warnings"),
    path("insights/warnings/<int:pk>/<slug:action>/", views.warning_action, name="warning_action"),
]

from django.urls import path

from guanxi.insights import views

app_name = "insights"
urlpatterns = [
    path("insights/", views.home, name="home"),
    path("insights/runs/start/", views.run_start, name="run_start"),
    path("insights/runs/<int:pk>/", views.run_status, name="run"),
    path("insights/scores/", views.scores, name="scores"),
    path("insights/grades/", views.grade_moves, name="grades"),
    path("insights/kpis/", views.kpis, name="kpis"),
    path("insights/warnings/", views.warnings_inbox, name="warnings"),
    path("insights/lost/", views.lost_customers, name="lost"),
    path("insights/lost/at-risk/", views.at_risk, name="at_risk"),
    path("insights/lost/<int:pk>/start/", views.winback_start, name="winback_start"),
    path("insights/lost/<int:pk>/give-up/", views.winback_give_up, name="winback_give_up"),
    path("insights/warnings/<int:pk>/<slug:action>/", views.warning_action, name="warning_action"),
    path("insights/customers/<int:pk>/", views.customer_panel, name="customer_panel"),
    path("insights/customers/<int:pk>/suggestions/", views.customer_suggestions, name="customer_suggestions"),
    path("insights/products/<int:pk>/lookalikes/", views.product_lookalikes, name="lookalikes"),
    path("insights/prospects/", views.prospects, name="prospects"),
    path("insights/exports/", views.exports_log, name="exports"),
    path("insights/exports/new/", views.export, name="export"),
    path("insights/targets/campaign/", views.target_campaign, name="target_campaign"),
]

from django.urls import path

from guanxi.care import views

app_name = "care"
urlpatterns = [
    path("c/<str:token>/", views.campaign_link, name="campaign_link"),
    path("care/", views.care_home, name="home"),
    path("care/rules/new/", views.rule_create, name="rule_create"),
    path("care/incidents/new/", views.incident_create, name="incident_create"),
    path("care/opt-outs/", views.opt_outs, name="opt_outs"),
    path("care/opt-outs/<int:customer_id>/remove/", views.opt_back_in, name="opt_back_in"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/launch/", views.campaign_launch, name="campaign_launch"),
    path("campaigns/<int:pk>/replies/<int:customer_id>/", views.campaign_reply, name="campaign_reply"),
]

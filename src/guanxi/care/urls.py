from django.urls import path

from guanxi.care import views

app_name = "care"
urlpatterns = [
    path("c/<str:token>/", views.campaign_link, name="campaign_link"),
]

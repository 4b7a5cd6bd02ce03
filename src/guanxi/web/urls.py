from django.urls import path

from guanxi.web import views

app_name = "web"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("search/", views.search, name="search"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("tasks/", views.tasks, name="tasks"),
    path("interactions/", views.interactions, name="interactions"),
    path("orders/", views.orders, name="orders"),
]

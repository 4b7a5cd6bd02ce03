from django.urls import path

from guanxi.engagement import views

app_name = "engagement"
urlpatterns = [
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/new/", views.task_create, name="task_create"),
    path("tasks/<int:pk>/complete/", views.complete_task, name="complete"),
    path("tasks/<int:pk>/reassign/", views.reassign_task, name="reassign"),
    path("interactions/", views.interaction_list, name="interactions"),
    path("interactions/new/", views.interaction_create, name="interaction_create"),
]

from django.urls import path

from guanxi.service import views

app_name = "service"
urlpatterns = [
    path("complain/", views.public_complaint, name="public_complaint"),
    path("complain/thanks/", views.public_done, name="public_done"),
    path("contact/", views.contact_page, name="contact"),
    path("complaints/", views.complaint_list, name="list"),
    path("complaints/new/", views.complaint_create, name="create"),
    path("complaints/statistics/", views.complaint_statistics, name="statistics"),
    path("complaints/<int:pk>/", views.complaint_detail, name="detail"),
    path("complaints/<int:pk>/do/<slug:action>/", views.complaint_act, name="act"),
    path("complaints/<int:pk>/take-over/", views.complaint_take_over, name="take_over"),
    path("complaints/<int:pk>/backlog/", views.complaint_backlog, name="backlog"),
    path("complaints/dissatisfaction/", views.dissatisfaction_create, name="dissatisfaction"),
    path("service/tickets/", views.ticket_list, name="tickets"),
    path("service/tickets/new/", views.ticket_create, name="ticket_create"),
    path("service/tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("service/knowledge/", views.knowledge_base, name="knowledge"),
]

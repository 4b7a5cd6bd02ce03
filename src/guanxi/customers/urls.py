from django.urls import path

from guanxi.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("validate/", views.validate_field, name="validate"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/state/", views.change_state, name="change_state"),
    path("<int:pk>/interactions/new/", views.log_interaction, name="log_interaction"),
    path("<int:pk>/tasks/new/", views.add_task, name="add_task"),
    path("<int:pk>/opportunities/new/", views.add_opportunity, name="add_opportunity"),
    path("<int:pk>/contacts/new/", views.add_contact, name="add_contact"),
    path("<int:pk>/referral/", views.set_referral, name="set_referral"),
    path("<int:pk>/<str:section>/", views.customer_section, name="section"),
]

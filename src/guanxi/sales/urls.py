from django.urls import path

from guanxi.sales import views

app_name = "sales"
urlpatterns = [
    path("pipeline/", views.pipeline, name="pipeline"),
    path("pipeline/<int:pk>/move/", views.move_opportunity, name="move"),
    path("products/", views.product_list, name="products"),
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/line/", views.order_line, name="order_line"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/payments/", views.record_payment, name="record_payment"),
    path("orders/<int:pk>/deliver/", views.deliver_order, name="deliver"),
    path("orders/<int:pk>/cancel/", views.cancel_order, name="cancel"),
    path("orders/<int:pk>/approve-credit/", views.approve_credit, name="approve_credit"),
    path("orders/<int:pk>/reject-credit/", views.reject_credit, name="reject_credit"),
    path("orders/approvals/", views.credit_approvals, name="credit_approvals"),
    path("orders/credit/", views.order_credit, name="order_credit"),
    path("receivables/customers/<int:pk>/lift-freeze/", views.lift_freeze, name="lift_freeze"),
    path("receivables/customers/<int:pk>/close-case/", views.close_case, name="close_case"),
    path("receivables/", views.receivables, name="receivables"),
    path("pick/customers/", views.customer_options, name="customer_options"),
]

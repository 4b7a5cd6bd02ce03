from django.contrib.auth import views as auth_views
from django.urls import path

from guanxi.accounts import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("language/", views.set_language, name="set_language"),
]

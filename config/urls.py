from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from argmap.views import accounts, maps

urlpatterns = [
    path("", maps.home, name="home"),
    path("maps/<slug:slug>/", maps.map_detail, name="map_detail"),
    path("maps/<slug:slug>/claims/<int:pk>/", maps.claim_detail, name="claim_detail"),
    path(
        "maps/<slug:slug>/claims/<int:pk>/children/",
        maps.claim_children,
        name="claim_children",
    ),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from argmap.views import accounts, claims, live, maps

urlpatterns = [
    path("", maps.home, name="home"),
    # Before map_detail: /maps/new/ would otherwise be read as the map with the slug "new".
    path("", include("argmap.views.curation")),
    path("maps/<slug:slug>/", maps.map_detail, name="map_detail"),
    path("maps/<slug:slug>/claims/<int:pk>/", maps.claim_detail, name="claim_detail"),
    path(
        "maps/<slug:slug>/claims/<int:pk>/children/",
        maps.claim_children,
        name="claim_children",
    ),
    path("maps/<slug:slug>/claims/<int:pk>/add/", claims.claim_add, name="claim_add"),
    path("maps/<slug:slug>/claims/<int:pk>/edit/", claims.claim_edit, name="claim_edit"),
    path("maps/<slug:slug>/claims/<int:pk>/move/", claims.claim_move, name="claim_move"),
    path("maps/<slug:slug>/claims/<int:pk>/reorder/", claims.claim_reorder, name="claim_reorder"),
    path("maps/<slug:slug>/claims/<int:pk>/archive/", claims.claim_archive, name="claim_archive"),
    path("maps/<slug:slug>/claims/<int:pk>/restore/", claims.claim_restore, name="claim_restore"),
    path("maps/<slug:slug>/claims/<int:pk>/history/", claims.claim_history, name="claim_history"),
    path("maps/<slug:slug>/claims/<int:pk>/revert/", claims.claim_revert, name="claim_revert"),
    path("maps/<slug:slug>/events/", live.map_events, name="map_events"),
    path("maps/<slug:slug>/changes/", live.map_changes, name="map_changes"),
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
    # Each area's views keep their own urlpatterns (argmap/views/<area>.py).
    path("", include("argmap.views.discussion")),
    path("", include("argmap.views.votes")),
    path("", include("argmap.views.moderation")),
    path("", include("argmap.views.map_settings")),
    path("", include("argmap.views.notifications")),
    path("", include("argmap.views.search")),
    path("", include("argmap.views.exports")),
    path("admin/", admin.site.urls),
]

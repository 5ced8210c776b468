from django.urls import path

from . import views

app_name = "ops"

urlpatterns = [
    path("board/<str:code>/", views.board, name="board"),
    path("board/<str:code>/body/", views.board_body, name="board-body"),
]

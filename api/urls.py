from django.urls import path

from api import views

urlpatterns = [
    path("images", views.ImageListCreateView.as_view(), name="image-list"),
    path("images/<str:image_id>", views.ImageDetailView.as_view(), name="image-detail"),
    path("images/<str:image_id>/annotated", views.ImageAnnotatedView.as_view(), name="image-annotated"),
]

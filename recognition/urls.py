from django.urls import path

from recognition import views

urlpatterns = [
    path("subjects", views.SubjectListView.as_view(), name="subject-list"),
    path("subjects/<str:subject>", views.SubjectDetailView.as_view(), name="subject-detail"),
    path("subjects/<str:subject>/faces", views.SubjectFacesView.as_view(), name="subject-faces"),
    path("faces", views.FaceListView.as_view(), name="face-list"),
    path("faces/<str:face_id>", views.FaceDetailView.as_view(), name="face-detail"),
    path("faces/<str:face_id>/img", views.FaceImageView.as_view(), name="face-img"),
    path("recognize", views.RecognizeView.as_view(), name="recognize"),
    path("verify", views.VerifyView.as_view(), name="verify"),
    path("detect", views.DetectView.as_view(), name="detect"),
    path("images/<str:image_id>/matches", views.ImageMatchesView.as_view(), name="image-matches"),
    path("clusters", views.ClusterListView.as_view(), name="cluster-list"),
    path("clusters/<int:cluster_id>/assign", views.ClusterAssignView.as_view(), name="cluster-assign"),
]

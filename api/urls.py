from django.urls import path

from api.views import images, imports, recognition, review

urlpatterns = [
    path("images", images.ImageListCreateView.as_view(), name="image-list"),
    path("images/<str:image_id>", images.ImageDetailView.as_view(), name="image-detail"),
    path("images/<str:image_id>/annotated", images.ImageAnnotatedView.as_view(), name="image-annotated"),
    path("images/<str:image_id>/matches", recognition.ImageMatchesView.as_view(), name="image-matches"),
    path("subjects", recognition.SubjectListView.as_view(), name="subject-list"),
    path("subjects/<str:subject>", recognition.SubjectDetailView.as_view(), name="subject-detail"),
    path("subjects/<str:subject>/faces", recognition.SubjectFacesView.as_view(), name="subject-faces"),
    path("faces", recognition.FaceListView.as_view(), name="face-list"),
    path("faces/<str:face_id>", recognition.FaceDetailView.as_view(), name="face-detail"),
    path("faces/<str:face_id>/img", recognition.FaceImageView.as_view(), name="face-img"),
    path("faces/<str:face_id>/verify", recognition.FaceVerifyView.as_view(), name="face-verify"),
    path("faces/<str:face_id>/assign", review.FaceAssignView.as_view(), name="face-assign"),
    path("faces/<str:face_id>/unassign", review.FaceUnassignView.as_view(), name="face-unassign"),
    path("matches", review.MatchListView.as_view(), name="match-list"),
    path("matches/<int:match_id>/confirm", review.MatchConfirmView.as_view(), name="match-confirm"),
    path("matches/<int:match_id>/reject", review.MatchRejectView.as_view(), name="match-reject"),
    path("imports", imports.ImportListView.as_view(), name="import-list"),
    path("imports/<str:import_id>", imports.ImportDetailView.as_view(), name="import-detail"),
    path("recognize", recognition.RecognizeView.as_view(), name="recognize"),
    path("verify", recognition.VerifyView.as_view(), name="verify"),
    path("detect", recognition.DetectView.as_view(), name="detect"),
    path("clusters", recognition.ClusterListView.as_view(), name="cluster-list"),
    path("clusters/<int:cluster_id>/assign", recognition.ClusterAssignView.as_view(), name="cluster-assign"),
    path("clusters/<int:cluster_id>/merge", review.ClusterMergeView.as_view(), name="cluster-merge"),
    path("clusters/<int:cluster_id>/split", review.ClusterSplitView.as_view(), name="cluster-split"),
]

"""Who the faces are: subjects (named people), clusters (suggested people) and matches."""

from __future__ import annotations

from django.db import models

from images.models import Face
from tenants.models import Application


class Subject(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="subjects")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "name"], name="subject_unique_name")]

    def __str__(self) -> str:
        return self.name


class Cluster(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="clusters")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class Match(models.Model):
    """``face`` and ``other_face`` (of another job image) are within the model's threshold."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="matches")
    face = models.ForeignKey(Face, on_delete=models.CASCADE, related_name="matches")
    other_face = models.ForeignKey(Face, on_delete=models.CASCADE, related_name="+")
    distance = models.FloatField()
    similarity = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "matches"
        constraints = [models.UniqueConstraint(fields=["face", "other_face"], name="match_unique_pair")]

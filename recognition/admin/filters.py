"""List filters of the review pages. The "by one object" filters (?subject=5, ?cluster=7,
?image=<uuid>, ?face=<uuid>) are what other pages link to; the sidebar shows the chosen object
and a way back to all, without listing every subject or cluster (there may be thousands)."""

from __future__ import annotations

import uuid

from django.contrib import admin
from django.db.models import Q

from facecore.embedders import MODEL_NAMES
from recognition import queries
from recognition.models import Subject


class OneObjectFilter(admin.SimpleListFilter):
    """Filter by one object named in the URL; subclasses say how to parse, label and match it."""

    def parse(self, value: str):
        return int(value)

    def label(self, value) -> str:
        return str(value)

    def q(self, value) -> Q:
        raise NotImplementedError

    def parsed(self):
        try:
            return self.parse(self.value()) if self.value() is not None else None
        except ValueError:
            return None

    def lookups(self, request, model_admin):
        value = self.parsed()
        return [] if value is None else [(self.value(), self.label(value))]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        value = self.parsed()
        return queryset.none() if value is None else queryset.filter(self.q(value))


class SubjectLabel:
    def label(self, value) -> str:
        return Subject.objects.filter(pk=value).values_list("name", flat=True).first() or f"#{value} (gone)"


class UuidValue:
    def parse(self, value: str):
        return uuid.UUID(value)

    def label(self, value) -> str:
        return str(value)[:8]


class FaceSubjectFilter(SubjectLabel, OneObjectFilter):
    title = "subject"
    parameter_name = "subject"

    def q(self, value) -> Q:
        return Q(subject_id=value)


class FaceClusterFilter(OneObjectFilter):
    title = "cluster"
    parameter_name = "cluster"

    def label(self, value) -> str:
        return f"cluster {value}"

    def q(self, value) -> Q:
        return Q(cluster_id=value)


class FaceImageFilter(UuidValue, OneObjectFilter):
    title = "image"
    parameter_name = "image"

    def q(self, value) -> Q:
        return Q(image_id=value)


class AssignmentFilter(admin.SimpleListFilter):
    title = "assignment"
    parameter_name = "assigned"
    CHOICES = {
        "no": ("Unassigned (no subject)", Q(subject__isnull=True)),
        "waiting": ("Unassigned, in no cluster", Q(subject__isnull=True, cluster__isnull=True)),
        "clustered": ("In a cluster", Q(cluster__isnull=False)),
        "yes": ("Assigned to a subject", Q(subject__isnull=False)),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in self.CHOICES.items()]

    def queryset(self, request, queryset):
        choice = self.CHOICES.get(self.value() or "")
        return queryset.filter(choice[1]) if choice else queryset


class ModelFilter(admin.SimpleListFilter):
    """The embedding models (from the engine's registry: no DISTINCT over every face)."""

    title = "model"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [(name, name) for name in MODEL_NAMES]

    def queryset(self, request, queryset):
        return queryset.filter(model=self.value()) if self.value() else queryset


class MatchStatusFilter(admin.SimpleListFilter):
    """To review (the default), confirmed (both faces examples of one subject) or all."""

    title = "status"
    parameter_name = "status"
    DEFAULT = "open"

    def lookups(self, request, model_admin):
        return [("open", "To review"), ("confirmed", "Confirmed (same subject)"), ("all", "All")]

    def choices(self, changelist):
        current = self.value() or self.DEFAULT
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        return queries.with_status(queryset, self.value() or self.DEFAULT)


class MatchFaceFilter(UuidValue, OneObjectFilter):
    title = "face"
    parameter_name = "face"

    def q(self, value) -> Q:
        return queries.involving_face(value)


class MatchImageFilter(UuidValue, OneObjectFilter):
    title = "image"
    parameter_name = "image"

    def q(self, value) -> Q:
        return queries.involving_image(value)


class MatchSubjectFilter(SubjectLabel, OneObjectFilter):
    title = "subject"
    parameter_name = "subject"

    def q(self, value) -> Q:
        return queries.involving_subject(value)

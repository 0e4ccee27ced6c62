"""The Matches page: pairs of faces in different images that recognition thinks are one person.

One row per pair (matches are stored both ways) with both thumbnails, the similarity, both
images and subjects; "to review" by default. Confirm (same person: both become examples of
one subject) or reject (different people: stored and respected from then on) per row with its
buttons, or for the selected rows with the actions.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe

from images.models import Face
from infra.errors import ServiceError
from recognition import queries, review
from recognition import subjects as subject_services
from recognition.admin import filters
from recognition.admin.faces import SubjectActionForm, reviewer
from recognition.admin.paging import CappedCountPaginator
from recognition.admin.thumbs import thumb
from recognition.models import Match


def typed_subject(request) -> str | None:
    """The subject name typed on the page (the face page's field or the list's action bar)."""
    raw = (request.POST.get("subject_name") or request.POST.get("subject") or "").strip()
    return subject_services.clean_name(raw) if raw else None


def face_cell(face: Face) -> SafeString:
    image_url = reverse("admin:images_image_change", args=[face.image_id])
    if face.subject_id is not None:
        subject_url = reverse("admin:recognition_subject_change", args=[face.subject_id])
        who = format_html('<a href="{}">{}</a>', subject_url, face.subject.name)
    else:
        who = format_html("{}", f"cluster {face.cluster_id}" if face.cluster_id else "unnamed")
    return format_html(
        '{}<br>image <a href="{}">{}</a> ({})', who, image_url, str(face.image_id)[:8], face.image.purpose
    )


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = ("pair", "similarity_short", "first_face", "second_face", "status", "decide")
    list_display_links = None
    list_filter = (
        filters.MatchStatusFilter,
        filters.MatchFaceFilter,
        filters.MatchImageFilter,
        filters.MatchSubjectFilter,
        "application",
    )
    list_per_page = 50
    paginator = CappedCountPaginator
    show_full_result_count = False
    ordering = ("-id",)
    action_form = SubjectActionForm
    actions = ["confirm_selected", "reject_selected"]
    readonly_fields = ("application", "face", "other_face", "distance", "similarity", "created_at")

    class Media:
        css = {"all": ("recognition/review.css",)}

    def changelist_view(self, request, extra_context=None):
        title = "Matches: the same person in two images?"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def get_queryset(self, request):
        return queries.match_pairs(super().get_queryset(request))

    def get_ordering(self, request):
        if request.GET.get("status") == "confirmed":
            # Grouped by person; also the fast plan (from the subjects' faces) at 100k faces.
            return ("face__subject__name", "-id")
        return super().get_ordering(request)

    def has_add_permission(self, request) -> bool:
        return False  # matches come from the pipeline

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # reject instead: a deleted match would come back, a rejection does not

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:match_id>/confirm/", wrap(self.confirm_view), name="recognition_match_confirm"),
            path("<int:match_id>/reject/", wrap(self.reject_view), name="recognition_match_reject"),
            *super().get_urls(),
        ]

    # --- columns -------------------------------------------------------------------------------

    @admin.display(description="faces")
    def pair(self, obj: Match) -> SafeString:
        return format_html(
            '<span class="fc-pair">{} {}</span>',
            thumb(obj.face_id, 80, link=True),
            thumb(obj.other_face_id, 80, link=True),
        )

    @admin.display(description="similarity", ordering="similarity")
    def similarity_short(self, obj: Match) -> str:
        return f"{obj.similarity:.2f}"

    @admin.display(description="first face")
    def first_face(self, obj: Match) -> SafeString:
        return face_cell(obj.face)

    @admin.display(description="second face")
    def second_face(self, obj: Match) -> SafeString:
        return face_cell(obj.other_face)

    @admin.display(description="status", boolean=False)
    def status(self, obj: Match) -> SafeString | str:
        return mark_safe('<span class="fc-confirmed">confirmed</span>') if obj.confirmed else "to review"

    @admin.display(description="decision")
    def decide(self, obj: Match) -> SafeString | str:
        if obj.confirmed:
            return ""
        return format_html(
            '<span class="fc-decide"><button type="submit" class="button fc-confirm" formaction="{}" formnovalidate '
            'title="Both become examples of the subject typed in the action bar, or of the one either has">'
            "Same person</button> "
            '<button type="submit" class="button fc-reject" formaction="{}" formnovalidate '
            'title="Never matched or clustered together again">Different people</button></span>',
            reverse("admin:recognition_match_confirm", args=[obj.pk]),
            reverse("admin:recognition_match_reject", args=[obj.pk]),
        )

    # --- one pair, from its buttons ------------------------------------------------------------

    def _decide(self, request, match_id: int, decide) -> HttpResponseRedirect:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        match = get_object_or_404(Match, pk=match_id)
        try:
            self.message_user(request, decide(request, match), messages.SUCCESS)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        return HttpResponseRedirect(self.back_to(request))

    def back_to(self, request) -> str:
        for candidate in (request.GET.get("next"), request.headers.get("Referer")):
            if candidate and url_has_allowed_host_and_scheme(
                candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return candidate
        return reverse("admin:recognition_match_changelist")

    def confirm_view(self, request, match_id: int):
        def confirm(request, match: Match) -> str:
            assigned = review.confirm_match(match.application, match, typed_subject(request))
            return f"Confirmed: both faces are examples of {assigned.subject.name}."

        return self._decide(request, match_id, confirm)

    def reject_view(self, request, match_id: int):
        def reject(request, match: Match) -> str:
            rejected = review.reject_match(match.application, match, reviewer(request))
            moved = " One face left the cluster they shared." if rejected.moved_face_id else ""
            return "Rejected: the two faces are different people." + moved

        return self._decide(request, match_id, reject)

    # --- selected pairs ------------------------------------------------------------------------

    @admin.action(
        description="Confirm selected matches (same person; subject name below if neither has one)",
        permissions=["change"],
    )
    def confirm_selected(self, request, queryset) -> None:
        try:
            name = typed_subject(request)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        done, errors = 0, []
        for match in queryset:
            try:
                review.confirm_match(match.application, match, name)
                done += 1
            except ServiceError as exc:
                errors.append(exc.message)
        self.report(request, f"Confirmed {done} match(es).", errors)

    @admin.action(description="Reject selected matches (different people)", permissions=["change"])
    def reject_selected(self, request, queryset) -> None:
        done, errors = 0, []
        for match in queryset:
            try:
                review.reject_match(match.application, match, reviewer(request))
                done += 1
            except ServiceError as exc:
                errors.append(exc.message)
        self.report(request, f"Rejected {done} match(es).", errors)

    def report(self, request, done: str, errors: list[str]) -> None:
        self.message_user(request, done, messages.SUCCESS if not errors else messages.WARNING)
        for error in errors[:5]:
            self.message_user(request, error, messages.ERROR)

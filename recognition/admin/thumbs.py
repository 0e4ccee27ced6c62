"""Face thumbnails for the review pages: small <img> tags pointing at one cached admin view, so a
list page stays light (no image bytes in the HTML) and each crop is fetched once per browser."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from images.models import Face
from infra.storage import ObjectNotFound, StorageUnavailable
from recognition.subjects import face_crop_jpeg

MAX_AGE = 7 * 24 * 3600
"""A crop never changes (a face's box is fixed), so browsers may keep it for a week."""
MISSING_MAX_AGE = 60

PLACEHOLDER = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160" viewBox="0 0 160 160">'
    '<rect width="160" height="160" fill="#ddd"/><text x="80" y="86" font-family="sans-serif" '
    'font-size="16" text-anchor="middle" fill="#777">no photo</text></svg>'
)


def thumb_url(face_id: uuid.UUID | str) -> str:
    return reverse("admin:images_face_thumbnail", args=[face_id])


def face_url(face_id: uuid.UUID | str) -> str:
    return reverse("admin:images_face_change", args=[face_id])


def thumb(face_id: uuid.UUID | str, size: int = 64, title: str = "", link: bool = False) -> SafeString:
    """An <img> of the face's crop (lazy), optionally linked to the face's page."""
    img = format_html(
        '<img class="fc-thumb" src="{}" width="{}" height="{}" loading="lazy" alt="face {}" title="{}">',
        thumb_url(face_id),
        size,
        size,
        str(face_id)[:8],
        title or str(face_id)[:8],
    )
    return format_html('<a href="{}">{}</a>', face_url(face_id), img) if link else img


def thumbs(face_ids, size: int = 48) -> SafeString:
    return format_html_join(" ", "{}", ((thumb(f, size, link=True),) for f in face_ids))


def _cached(response: HttpResponse, etag: str, max_age: int) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = f"private, max-age={max_age}"
    return response


def thumbnail_response(request: HttpRequest, face_id: uuid.UUID) -> HttpResponse:
    """The face's crop (image/jpeg, cached by the browser); a placeholder when no photo is left."""
    etag = f'"crop-{face_id}"'
    if request.headers.get("If-None-Match") == etag:
        return _cached(HttpResponseNotModified(), etag, MAX_AGE)
    face = Face.objects.select_related("image").filter(pk=face_id).first()
    if face is None:
        return HttpResponse(PLACEHOLDER, content_type="image/svg+xml", status=404)
    try:
        jpeg = face_crop_jpeg(face)
    except ObjectNotFound:
        response = HttpResponse(PLACEHOLDER, content_type="image/svg+xml")
        return _cached(response, '"crop-missing"', MISSING_MAX_AGE)
    except StorageUnavailable:
        return HttpResponse(PLACEHOLDER, content_type="image/svg+xml", status=503)
    return _cached(HttpResponse(jpeg, content_type="image/jpeg"), etag, MAX_AGE)

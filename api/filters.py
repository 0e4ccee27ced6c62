import django_filters

from images.models import Image, ImageStatus


class ImageFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ImageStatus.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Image
        fields = ["status", "request_id"]

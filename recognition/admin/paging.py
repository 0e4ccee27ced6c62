"""Pagination that stays fast deep into long lists (100,000 faces, a million matches).

A page's primary keys are found first with the lightest form of the list's query (no joined
columns, no annotations: an index scan), then only those rows are loaded with everything the
page shows. OFFSET then walks an index instead of joining every skipped row.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from recognition.queries import COUNT_CAP, counted


class DeferredJoinPaginator(Paginator):
    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in self.object_list.filter(pk__in=keys)}
        return self._get_page([rows[key] for key in keys if key in rows], number, self)


class CappedCountPaginator(DeferredJoinPaginator):
    """Counts at most ``COUNT_CAP`` rows: counting a million matches to review would cost more
    than the page itself; the page says "10000 or more" then (admin/recognition/match/pagination.html)."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        return counted(self.object_list, self.cap)

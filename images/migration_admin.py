"""Django admin for model migrations: start one (the add form), watch its counts, and roll it
back, finalize or resume it (actions). The work itself runs on the workers (images.migration)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from facecore.embedders import MODEL_NAMES
from images import migration as migrations
from images.embedding_models import active_model
from images.models import ModelMigration


class StartForm(forms.ModelForm):
    target = forms.ChoiceField(
        choices=[(name, name) for name in MODEL_NAMES], help_text="Re-embed every face with this model."
    )

    class Meta:
        model = ModelMigration
        fields = ["target", "allow_partial"]

    def clean_target(self) -> str:
        target = self.cleaned_data["target"]
        if target == active_model():
            raise forms.ValidationError(f"{target} is already the active model.")
        return target


@admin.register(ModelMigration)
class ModelMigrationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "source",
        "target",
        "state",
        "counts",
        "speed",
        "started_at",
        "switched_at",
        "finished_at",
    )
    readonly_fields = (
        "source",
        "allow_partial",
        "target",
        "state",
        "counts",
        "speed",
        "from_crops",
        "error",
        "started_at",
        "switched_at",
        "finished_at",
    )
    actions = ["rollback", "finalize", "resume", "resume_partial"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = StartForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ["target", "allow_partial"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        """The add form starts a migration (in the background) instead of saving a row itself."""
        try:
            started = migrations.start(
                form.cleaned_data["target"], allow_partial=form.cleaned_data["allow_partial"]
            )
        except migrations.MigrationError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        obj.pk = started.pk
        self.message_user(
            request,
            f"Started {started} for {started.total} faces; the service answers with {started.source} until it switches.",
        )

    @admin.display(description="faces: migrated / not migratable / remaining")
    def counts(self, obj: ModelMigration) -> str:
        p = migrations.progress(obj)
        return f"{p.migrated} / {p.not_migratable} / {p.remaining}"

    @admin.display(description="faces/s")
    def speed(self, obj: ModelMigration) -> str:
        return str(migrations.progress(obj).faces_per_second or "-")

    def _each(self, request, queryset, step, done: str) -> None:
        for obj in queryset:
            try:
                step(obj.pk)
            except migrations.MigrationError as exc:
                self.message_user(request, f"{obj}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{obj}: {done}")

    @admin.action(description="Roll back (the old model answers again)")
    def rollback(self, request, queryset) -> None:
        self._each(request, queryset, migrations.rollback, "rolled back")

    @admin.action(description="Finalize (delete the old embeddings)")
    def finalize(self, request, queryset) -> None:
        self._each(request, queryset, migrations.finalize, "finalized")

    @admin.action(description="Resume a failed migration")
    def resume(self, request, queryset) -> None:
        self._each(request, queryset, migrations.resume, "resumed")

    @admin.action(description="Resume, switching without the faces that cannot be re-embedded")
    def resume_partial(self, request, queryset) -> None:
        self._each(request, queryset, lambda pk: migrations.resume(pk, allow_partial=True), "resumed")

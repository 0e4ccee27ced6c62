"""The models moved to the apps that own them (tenants, images, recognition): they leave this
app's state, and their content types (admin history, permissions) follow them."""

from django.db import migrations

MOVED = {
    "application": "tenants",
    "apikey": "tenants",
    "image": "images",
    "face": "images",
    "webhookattempt": "images",
    "subject": "recognition",
    "cluster": "recognition",
    "match": "recognition",
}


def move_content_types(apps, schema_editor) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        if not content_type.objects.filter(app_label=app_label, model=model).exists():
            content_type.objects.filter(app_label="api", model=model).update(app_label=app_label)


def restore_content_types(apps, schema_editor) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        content_type.objects.filter(app_label=app_label, model=model).update(app_label="api")


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_image_deliveries"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tenants", "0001_initial"),
        ("images", "0002_face_subject_cluster"),
        ("recognition", "0004_models"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="Match"),
                migrations.DeleteModel(name="Face"),
                migrations.DeleteModel(name="WebhookAttempt"),
                migrations.DeleteModel(name="Cluster"),
                migrations.DeleteModel(name="Subject"),
                migrations.DeleteModel(name="Image"),
                migrations.DeleteModel(name="ApiKey"),
                migrations.DeleteModel(name="Application"),
            ],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]

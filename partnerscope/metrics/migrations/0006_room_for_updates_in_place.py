"""Values and scores are rewritten by every recompute: on PostgreSQL their pages are filled to
60 % so that the new version of a row fits on its own page. Such an update (HOT) touches no
index; with full pages every updated value wrote a new entry into each of the table's four
indexes (storing one day's 10,700 values: 0.5 s → 0.25 s at the large benchmark). It applies to
pages written from now on; existing rows move as they are updated."""

from django.db import migrations

TABLES = ("metrics_metricvalue", "metrics_score")


def fill_to(percent):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return  # SQLite has no such setting, nor the need: an update rewrites only the indexes of the columns it changes
        for table in TABLES:
            schema_editor.execute(
                f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {percent})"
            )

    return apply


class Migration(migrations.Migration):
    dependencies = [("metrics", "0005_derived_rows_without_fk_constraints")]

    operations = [migrations.RunPython(fill_to(60), fill_to(100))]

"""Which database the suite runs on, so a CI run meant for PostgreSQL cannot pass on SQLite."""

import os

import pytest
from django.db import connection


def test_it_runs_on_the_database_ci_asked_for(db):
    if os.environ.get("PARTNERSCOPE_REQUIRE_POSTGRES") == "1":
        assert connection.vendor == "postgresql", (
            "PARTNERSCOPE_REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL"
        )
    elif connection.vendor != "sqlite":
        pytest.skip("running on another database than the SQLite default")
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1  # the init_command in settings is applied

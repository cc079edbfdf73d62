"""Tracker tokens are encrypted at rest, never shown again, never in the audit log."""

from __future__ import annotations

import pytest

from partnerscope.evidence.connector_services import save_connection
from partnerscope.evidence.connectors.secrets import TokenUnavailable, decrypt_token, encrypt_token
from partnerscope.evidence.models import Connection
from partnerscope.orgs.models import AuditEvent, Membership

TOKEN = "ghp_SuperSecretToken1234567890"


def test_a_token_is_stored_encrypted_and_round_trips(world):
    connection = save_connection(
        membership=world.owner_m,
        instance=Connection(engagement=world.engagement_a, name="gh", kind="github", project="acme/app"),
        token=TOKEN,
    )
    stored = Connection.objects.get(pk=connection.pk)
    assert TOKEN not in stored.token_encrypted and stored.token_encrypted
    assert decrypt_token(stored.token_encrypted) == TOKEN
    assert stored.token_hint == "…7890"
    for event in AuditEvent.objects.filter(object_uid=connection.uid):
        assert TOKEN not in str(event.before) + str(event.after)
        assert stored.token_encrypted not in str(event.after)


def test_an_edit_without_a_token_keeps_the_stored_one(world):
    connection = save_connection(
        membership=world.owner_m,
        instance=Connection(engagement=world.engagement_a, name="gh", kind="github", project="acme/app"),
        token=TOKEN,
    )
    connection.name = "renamed"
    save_connection(membership=world.owner_m, instance=connection, token="")
    assert decrypt_token(Connection.objects.get(pk=connection.pk).token_encrypted) == TOKEN


def test_a_changed_key_asks_for_the_token_again(settings):
    stored = encrypt_token(TOKEN)
    settings.SECRET_KEY = "another-secret-key-" * 3
    with pytest.raises(TokenUnavailable, match="enter the token again"):
        decrypt_token(stored)


def test_pages_and_the_api_never_show_the_token(world, client):
    connection = Connection.objects.filter(engagement=world.engagement_a).first()
    client.force_login(world.users["owner"])
    for url in (f"/o/acme/connections/{connection.uid}/", f"/o/acme/connections/{connection.uid}/edit/"):
        body = client.get(url).content.decode()
        assert "ghp_fixture0000000000" not in body and connection.token_encrypted not in body
        assert "…0000" in body


def test_only_an_owner_may_allow_a_private_server(world):
    from django.core.exceptions import ValidationError

    manager = Membership.objects.get(user=world.users["manager"])
    with pytest.raises(ValidationError, match="Only an owner"):
        save_connection(
            membership=manager,
            instance=Connection(
                engagement=world.engagement_a, name="x", kind="github", project="a/b", allow_private_host=True
            ),
            token=TOKEN,
        )


def test_the_stored_token_never_follows_a_new_server(world):
    from django.core.exceptions import ValidationError

    connection = save_connection(
        membership=world.owner_m,
        instance=Connection(
            engagement=world.engagement_a, name="onprem", kind="github", project="acme/app",
            base_url="http://10.0.0.5", allow_private_host=True,
        ),
        token=TOKEN,
    )  # fmt: skip
    manager = Membership.objects.get(user=world.users["manager"])
    public = Connection.objects.get(engagement=world.engagement_a, name="Alpha Soft GitHub")
    public.base_url = "https://git.attacker.example"
    with pytest.raises(ValidationError, match="token again"):
        save_connection(membership=manager, instance=public, token="")
    connection.base_url = "http://169.254.169.254"
    with pytest.raises(ValidationError, match="Only an owner"):
        save_connection(membership=manager, instance=connection, token="")
    with pytest.raises(ValidationError, match="Only an owner"):
        save_connection(membership=manager, instance=connection, token="ghp_new_token_value")
    assert Connection.objects.get(pk=connection.pk).base_url == "http://10.0.0.5"


def test_another_project_starts_over_and_not_while_a_sync_runs(world):
    from django.core.exceptions import ValidationError

    from partnerscope.evidence.connector_services import queue_connection_sync
    from partnerscope.evidence.models import PullRequest

    connection = Connection.objects.get(engagement=world.engagement_a)
    Connection.objects.filter(pk=connection.pk).update(cursor={"pull_requests": "2025-06-01T00:00:00Z"})
    assert PullRequest.objects.filter(connection=connection).exists()
    run = queue_connection_sync(connection)
    connection = Connection.objects.get(pk=connection.pk)
    connection.project = "acme/another"
    with pytest.raises(ValidationError, match="queued or running"):
        save_connection(membership=world.owner_m, instance=connection)
    run.status = "failed"
    run.save()
    save_connection(membership=world.owner_m, instance=connection)
    connection.refresh_from_db()
    assert connection.cursor == {} and not PullRequest.objects.filter(connection=connection).exists()

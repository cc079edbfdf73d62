"""One connector sync end to end, in the worker or the CLI, reporting on its ConnectorRun."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from partnerscope.evidence.connectors.derive import derive_incidents, link_deployment_commits
from partnerscope.evidence.connectors.http import SourceError
from partnerscope.evidence.connectors.secrets import TokenUnavailable, decrypt_token
from partnerscope.evidence.connectors.store import save_cursor
from partnerscope.evidence.connectors.urlguard import UnsafeURL
from partnerscope.evidence.models import Connection, ConnectorRun, PullRequest, WorkItem

log = logging.getLogger("partnerscope.evidence")

# Per kind of connection: its client and sync classes, and the reader of its offline exports.
# Client(connection, token, *, transport=None, sleep=time.sleep) with .requests and .close();
# Sync(connection, client, progress) with .run(), .records and .final_cursor;
# read_files(connection, [(file name, bytes)]) -> (pull request rows, work item rows, deployment
# rows), all files at once (a GitLab merge request's notes and commits come in files of their own);
# a SourceError names the file, the record and the field.
CONNECTORS = {
    "github": ("github.client.GitHubClient", "github.sync.GitHubSync"),
    "gitlab": ("gitlab.client.GitLabClient", "gitlab.sync.GitLabSync"),
    "jira": ("jira.client.JiraClient", "jira.sync.JiraSync"),
}
IMPORTERS = {
    "github": "github.export.read_files",
    "gitlab": "gitlab.export.read_files",
    "jira": "jira.csv_import.read_files",
}


def _load(path: str):
    return import_string(f"partnerscope.evidence.connectors.{path}")


class Cancelled(Exception):
    pass


def run_connector_sync(
    run: ConnectorRun,
    *,
    transport=None,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: Callable[[ConnectorRun], None] | None = None,
) -> ConnectorRun:
    connection = run.connection
    run.status, run.started_at = ConnectorRun.Status.RUNNING, timezone.now()
    run.worker_host, run.worker_pid = socket.gethostname(), os.getpid()
    run.save(update_fields=["status", "started_at", "worker_host", "worker_pid", "updated_at"])
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.SYNCING)
    client = None
    try:
        token = decrypt_token(connection.token_encrypted)
        if connection.kind not in CONNECTORS:
            raise SourceError(f"Syncing {connection.get_kind_display()} is not available in this version.")
        client_class, sync_class = (_load(path) for path in CONNECTORS[connection.kind])
        client = client_class(connection, token, transport=transport, sleep=sleep)

        def progress(phase: str, records: int) -> None:
            if ConnectorRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
                raise Cancelled
            run.phase, run.progress_done, run.records, run.requests = phase, records, records, client.requests
            run.save(update_fields=["phase", "progress_done", "records", "requests", "updated_at"])
            if on_progress:
                on_progress(run)

        sync = sync_class(connection, client, progress)
        sync.run()
        progress("Linking deployments and incidents", sync.records)
        link_deployment_commits(connection)
        with transaction.atomic():
            incidents = derive_incidents(connection)
            # The cursors move last, with the outcome: a crash before here re-reads, idempotently.
            save_cursor(connection, **sync.final_cursor)
            Connection.objects.filter(pk=connection.pk).update(
                status=Connection.Status.OK, last_synced_at=timezone.now(), last_error=""
            )
            run.status, run.finished_at, run.phase = ConnectorRun.Status.SUCCEEDED, timezone.now(), "Done"
            run.requests, run.records = client.requests, sync.records
            run.message = (
                f"Read {sync.records} record{'' if sync.records == 1 else 's'} in {client.requests} "
                f"request{'' if client.requests == 1 else 's'}; {incidents} incident{'' if incidents == 1 else 's'}."
            )
            run.save(
                update_fields=[
                    "status",
                    "finished_at",
                    "phase",
                    "requests",
                    "records",
                    "message",
                    "updated_at",
                ]
            )
        return run
    except Cancelled:
        return _end(
            run,
            connection,
            ConnectorRun.Status.CANCELLED,
            "Cancelled; the records read so far are kept.",
            client,
        )
    except (SourceError, TokenUnavailable, UnsafeURL) as exc:
        return _end(run, connection, ConnectorRun.Status.FAILED, str(exc), client)
    except Exception:
        log.exception("sync of connection %s failed", connection.pk)
        return _end(
            run,
            connection,
            ConnectorRun.Status.FAILED,
            "The sync failed on an internal error; it was logged.",
            client,
        )
    finally:
        if client is not None:
            client.close()


def _end(run: ConnectorRun, connection: Connection, status: str, message: str, client) -> ConnectorRun:
    failed = status == ConnectorRun.Status.FAILED
    Connection.objects.filter(pk=connection.pk).update(
        status=Connection.Status.FAILED
        if failed
        else (Connection.Status.OK if connection.cursor else Connection.Status.NEW),
        last_error=message if failed else "",
    )
    run.status, run.message, run.finished_at, run.phase = status, message, timezone.now(), ""
    run.requests = client.requests if client is not None else 0
    run.save(update_fields=["status", "message", "finished_at", "phase", "requests", "updated_at"])
    return run


def _newer_than_stored(model, connection, key: str, rows: list[dict], kind: str | None = None) -> list[dict]:
    stored = {}
    values = [row[key] for row in rows if kind is None or row["kind"] == kind]
    chosen = model.objects.filter(connection=connection, **({"kind": kind} if kind else {}))
    for start in range(0, len(values), 500):
        stored.update(
            chosen.filter(**{f"{key}__in": values[start : start + 500]}).values_list(key, "updated_at")
        )
    return [
        row
        for row in rows
        if (kind is None or row["kind"] == kind)
        and (row[key] not in stored or stored[row[key]] <= row["updated_at"])
    ]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def import_dir(run: ConnectorRun):
    from pathlib import Path

    from django.conf import settings

    return Path(settings.DATA_DIR) / "imports" / str(run.organization_id) / run.uid


def run_connector_import(run: ConnectorRun, *, on_progress=None) -> ConnectorRun:
    """Import the export files saved for this run: all of them or nothing (one transaction),
    then derive deployments' commits and incidents as after a sync. The cursors do not move: an
    export says nothing about what the API would return next."""
    import shutil

    from partnerscope.evidence.connectors.store import (
        store_deployments,
        store_pull_requests,
        store_work_items,
    )
    from partnerscope.evidence.models import Deployment

    connection = run.connection
    folder = import_dir(run)
    run.status, run.started_at, run.phase = ConnectorRun.Status.RUNNING, timezone.now(), "Reading the files"
    run.worker_host, run.worker_pid = socket.gethostname(), os.getpid()
    run.save(update_fields=["status", "started_at", "phase", "worker_host", "worker_pid", "updated_at"])
    try:
        if connection.kind not in IMPORTERS:
            raise SourceError(
                f"Importing {connection.get_kind_display()} exports is not available in this version."
            )
        read_files = _load(IMPORTERS[connection.kind])
        files = [(path.name.split("-", 1)[-1], path.read_bytes()) for path in sorted(folder.glob("*"))]
        prs, items, deployments = read_files(connection, files)
        # Overlapping exports repeat records: the last file's version of each wins (an upsert
        # batch must not name the same key twice).
        prs = list({row["number"]: row for row in prs}.values())
        items = list({row["key"]: row for row in items}.values())
        deployments = list({(row["kind"], row["external_id"]): row for row in deployments}.values())
        # An export is a snapshot: it never replaces a record a sync stored in a newer state.
        prs = _newer_than_stored(PullRequest, connection, "number", prs)
        items = _newer_than_stored(WorkItem, connection, "key", items)
        deployments = [
            row
            for kind in sorted({row["kind"] for row in deployments})
            for row in _newer_than_stored(Deployment, connection, "external_id", deployments, kind)
        ]
        run.phase, run.progress_total = "Storing", len(prs) + len(items) + len(deployments)
        run.save(update_fields=["phase", "progress_total", "updated_at"])
        if on_progress:
            on_progress(run)
        with transaction.atomic():
            for start in range(0, len(prs), 500):
                store_pull_requests(connection, prs[start : start + 500])
            for start in range(0, len(items), 500):
                store_work_items(connection, items[start : start + 500])
            for start in range(0, len(deployments), 500):
                store_deployments(connection, deployments[start : start + 500])
            link_deployment_commits(connection)
            incidents = derive_incidents(connection)
            Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.OK, last_error="")
            run.status, run.finished_at, run.phase = ConnectorRun.Status.SUCCEEDED, timezone.now(), "Done"
            run.records = run.progress_done = len(prs) + len(items) + len(deployments)
            what = [_plural(len(prs), "pull request"), _plural(len(items), "issue")]
            if deployments:
                what.append(_plural(len(deployments), "deployment"))
            run.message = f"Imported {', '.join(what[:-1])} and {what[-1]}; {_plural(incidents, 'incident')}."
            run.save(
                update_fields=[
                    "status",
                    "finished_at",
                    "phase",
                    "records",
                    "progress_done",
                    "message",
                    "updated_at",
                ]
            )
        return run
    except SourceError as exc:
        return _end(run, connection, ConnectorRun.Status.FAILED, f"Nothing was imported. {exc}", None)
    except Exception:
        log.exception("import into connection %s failed", connection.pk)
        return _end(
            run,
            connection,
            ConnectorRun.Status.FAILED,
            "The import failed on an internal error; it was logged.",
            None,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)

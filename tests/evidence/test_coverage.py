"""Coverage on new code: reports read for the lines their commit added, with known answers.

Engagement A's repository, March 2024: Ana (Alpha) makes five commits, each adding lines to
src/app.py; Ida (in-house) one. Each build's report says which of the file's lines can run and
which ran; a commit's new code is the lines it added that the report lists.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from partnerscope.evidence import coverage
from partnerscope.evidence.models import CoverageReport, Repository
from partnerscope.evidence.services import import_coverage
from partnerscope.metrics import engine
from partnerscope.metrics.kpis import BUILTIN
from partnerscope.metrics.models import CellMeasures, DirtyCell, MetricValue
from partnerscope.metrics.provenance import evidence_for
from tests.api.conftest import api_secret
from tests.conftest import client_for
from tests.evidence.gitrepo import GitRepo
from tests.evidence.test_git_ingestion import _register, _sync

MARCH = datetime.date(2024, 3, 1)


def code(n: int) -> str:
    return "".join(f"value_{i} = compute({i})\n" for i in range(n))


def lcov(path: str, hits: dict[int, int]) -> bytes:
    body = "".join(f"DA:{line},{n}\n" for line, n in sorted(hits.items()))
    return f"TN:\nSF:{path}\n{body}LF:{len(hits)}\nLH:{sum(1 for n in hits.values() if n)}\nend_of_record\n".encode()


def cobertura(source: str, filename: str, hits: dict[int, int]) -> bytes:
    lines = "".join(f'<line number="{line}" hits="{n}"/>' for line, n in sorted(hits.items()))
    return (
        '<?xml version="1.0" ?>\n<coverage version="7.4" line-rate="0.5">'
        f"<sources><source>{source}</source></sources><packages><package name='app'><classes>"
        f'<class name="app" filename="{filename}"><lines>{lines}</lines></class>'
        "</classes></package></packages></coverage>"
    ).encode()


@pytest.fixture
def history(roots):
    repo = GitRepo(roots / "cov")
    shas = []
    for n in range(1, 6):
        # Each commit adds two lines at the end of src/app.py (lines 2n-1 and 2n).
        shas.append(
            repo.commit("Ana Alpha", "ana@alpha.test", f"2024-03-0{n}", {"src/app.py": code(2 * n)}, f"a{n}")
        )
    shas.append(repo.commit("Ida", "ida@acme.test", "2024-03-10", {"docs/x.md": "text\n"}, "ida docs"))
    repo.shas = shas
    return repo


@pytest.fixture
def synced(world, history, roots):
    repository = _register(world, roots / "cov")
    run = _sync(repository)
    assert run.status == "succeeded", run.message
    return repository


def test_each_commits_new_lines_are_read_from_its_own_report(world, history, synced):
    m = world.owner_m
    # a1 adds lines 1-2; the report lists both, one ran. The build saw absolute paths.
    import_coverage(membership=m, repository=synced, commit=history.shas[0][:8], name="lcov.info",
                    data=lcov("/home/ci/work/cov/src/app.py", {1: 3, 2: 0}))  # fmt: skip
    # a2 adds lines 3-4; line 4 is not code (not listed): 1 of 1. Cobertura relative to src/.
    import_coverage(membership=m, repository=synced, commit=history.shas[1], name="coverage.xml",
                    data=cobertura("/home/ci/work/cov/src", "app.py", {1: 1, 2: 1, 3: 1}))  # fmt: skip
    # a3-a5: lines 5-6, 7-8, 9-10, all listed, all ran; a report of another file counts nothing.
    for n in (2, 3, 4):
        hits = {line: 1 for line in range(1, 2 * n + 3)}
        import_coverage(membership=m, repository=synced, commit=history.shas[n], name="lcov.info",
                        data=lcov("src/app.py", hits) + lcov("src/other.py", {1: 0}))  # fmt: skip
    counts = {
        r.commit.subject: (r.new_covered, r.new_lines, r.format)
        for r in CoverageReport.objects.select_related("commit")
    }
    assert counts == {
        "a1": (1, 2, "lcov"),
        "a2": (1, 1, "cobertura"),
        "a3": (2, 2, "lcov"),
        "a4": (2, 2, "lcov"),
        "a5": (2, 2, "lcov"),
    }
    engine.full_recompute(world.org.id)
    march = MetricValue.objects.get(
        organization=world.org, kpi="new_code_coverage", vendor_key=world.vendor_a.id, engagement_key=0,
        period_kind="month", period_start=MARCH,
    )  # fmt: skip
    assert march.status == "ok" and march.sample == 5
    assert march.value == pytest.approx(8 / 9)
    provenance = evidence_for(march, BUILTIN["new_code_coverage"])
    assert provenance.verified
    labels = [r.label for g in provenance.groups if g.name == "coverable_new_lines" for r in g.records]
    assert any(label.endswith("a1 — 1 of 2 new lines covered") for label in labels)

    # A second report of a1 replaces the first and marks March for the incremental recompute.
    DirtyCell.objects.all().delete()
    import_coverage(membership=m, repository=synced, commit=history.shas[0], name="lcov.info",
                    data=lcov("src/app.py", {1: 1, 2: 1}))  # fmt: skip
    assert CoverageReport.objects.count() == 5
    assert set(DirtyCell.objects.values_list("engagement_id", "month")) == {(world.engagement_a.id, MARCH)}
    engine.recompute_dirty(world.org.id)
    march.refresh_from_db()
    assert march.value == pytest.approx(9 / 9)
    cell = CellMeasures.objects.get(
        organization=world.org,
        engagement_key=0,
        vendor_key=world.vendor_a.id,
        period_kind="month",
        period_start=MARCH,
    )
    assert (cell.measures["covered_new_lines"], cell.measures["coverable_new_lines"]) == (9, 9)


@pytest.mark.parametrize(
    "commit, data, field, words",
    [
        ("zzz", b"SF:a\nDA:1,1\n", "commit", "hexadecimal"),
        ("1234567", b"SF:a\nDA:1,1\n", "commit", "not in this repository"),
        (None, b"SF:src/app.py\nDA:1\nend_of_record\n", "file", "lcov.info, line 2: DA: needs a line number"),
        (None, b"DA:1,1\n", "file", "line 1: DA: outside a file's record"),
        (None, b'{"coverage": 1}', "file", "line 1: not an LCOV record"),
        (None, b"<coverage><packages>", "file", "not well-formed XML"),
        (None, b'<!DOCTYPE x [<!ENTITY a "aaaa">]><coverage/>', "file", "entity declarations"),
        (None, b"<report/>", "file", "not Cobertura's <coverage>"),
        (None, b'<coverage><class filename="a.py"><line number="x" hits="1"/></class></coverage>', "file",
         "a <line> of a.py needs whole-number"),
        (None, b"\xff\xfe", "file", "not UTF-8"),
    ],
)  # fmt: skip
def test_bad_reports_name_the_field_and_line_and_write_nothing(
    world, history, synced, commit, data, field, words
):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        import_coverage(membership=world.owner_m, repository=synced, commit=commit or history.shas[0],
                        name="lcov.info", data=data)  # fmt: skip
    assert words in " ".join(caught.value.message_dict[field])
    assert not CoverageReport.objects.exists()


def test_the_api_takes_a_multipart_upload_and_vendors_list_their_own(world, history, synced):
    path = f"/api/v1/repositories/{synced.uid}/coverage"
    owner = Client(HTTP_AUTHORIZATION=f"Bearer {api_secret(world, 'owner', 'write')}")
    answer = owner.post(
        path,
        {
            "commit": history.shas[4],
            "file": SimpleUploadedFile("lcov.info", lcov("src/app.py", {9: 1, 10: 0})),
        },
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["commit"], body["new_covered"], body["new_lines"], body["format"]) == (
        history.shas[4],
        1,
        2,
        "lcov",
    )
    bad = owner.post(path, {"commit": history.shas[5], "file": SimpleUploadedFile("c.xml", b"<coverage")})
    assert bad.status_code == 422 and "not well-formed XML" in bad.content.decode()
    no_commit = owner.post(path, {"commit": "", "file": SimpleUploadedFile("lcov.info", b"SF:a\n")})
    assert no_commit.status_code == 422 and "commit" in no_commit.content.decode()
    # Ida's in-house commit's report is not vendor A's to see; Ana's is.
    owner.post(
        path, {"commit": history.shas[5], "file": SimpleUploadedFile("lcov.info", lcov("docs/x.md", {1: 1}))}
    )
    vendor = Client(HTTP_AUTHORIZATION=f"Bearer {api_secret(world, 'vendor_a', 'read')}")
    listed = vendor.get(path).json()
    assert [row["commit"] for row in listed["items"]] == [history.shas[4]]
    assert len(owner.get(path).json()["items"]) == 2
    # A vendor cannot upload: as everywhere in the API, a write it may not make is not found.
    refused = vendor.post(
        path, {"commit": history.shas[0], "file": SimpleUploadedFile("l", lcov("src/app.py", {1: 1}))}
    )
    assert refused.status_code == 404 and CoverageReport.objects.count() == 2


def test_the_upload_page_reads_a_report_and_shows_it_on_the_repository_page(world, history, synced):
    client = client_for(world, "owner")
    url = reverse("repository_coverage", args=[world.org.slug, synced.uid])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"commit": history.shas[0], "file": SimpleUploadedFile("lcov.info", b"DA:1,1\n")})
    assert bad.status_code == 400 and "outside a file&#x27;s record" in bad.content.decode()
    good = client.post(
        url,
        {
            "commit": history.shas[0],
            "file": SimpleUploadedFile("lcov.info", lcov("src/app.py", {1: 1, 2: 1})),
        },
    )
    assert good.status_code == 302
    page = client.get(reverse("repository_detail", args=[world.org.slug, synced.uid])).content.decode()
    assert 'id="coverage"' in page and "2 of 2" in page


def test_report_paths_match_the_repository_by_suffix():
    report = coverage.Report(
        "lcov", {"/ci/a/src/app.py": {1: 1}, "/ci/a/app.py": {2: 1}, "pkg/mod.py": {3: 0}}
    )
    assert coverage.report_file(report, "src/app.py") == {1: 1}
    assert coverage.report_file(report, "app.py") == {2: 1}  # the shortest report path ending with it
    assert coverage.report_file(report, "python/pkg/mod.py") == {3: 0}  # a report relative to a subfolder
    assert coverage.report_file(report, "src/other.py") is None


def test_a_repository_never_synced_has_no_commits_to_cover(world):
    repository = Repository.objects.filter(engagement=world.engagement_a).first()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        import_coverage(membership=world.owner_m, repository=repository, commit="abcdef1", name="l", data=b"")
    assert "sync it first" in " ".join(caught.value.message_dict["commit"])

"""gitsafe: no attacker-controlled command ever runs, bad sources get clear messages.

The malicious-repository suite builds real repositories whose config, hooks, attributes,
submodules, symlinks and ref names each try to run ``touch <markers>/PWNED-<name>``; after
validating, mirroring and reading the history through gitsafe, the markers folder must be empty.
``test_payloads_are_live`` proves the payloads do fire under naive git use, so an empty folder
means something.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from partnerscope.evidence import gitsafe
from partnerscope.evidence.gitsafe import GitError, Source

HOOK_NAMES = [
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "pre-push",
    "pre-receive",
    "update",
    "proc-receive",
    "post-receive",
    "post-update",
    "reference-transaction",
    "push-to-checkout",
    "pre-auto-gc",
    "post-rewrite",
    "sendemail-validate",
    "fsmonitor-watchman",
    "p4-pre-submit",
    "post-index-change",
]

SETUP_ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/nonexistent",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
}


def git(*args, cwd=None, env=None, check=True, safe=True) -> subprocess.CompletedProcess:
    """Plain git for building fixtures; ``safe`` keeps the payloads from firing during setup."""
    prefix = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]
    if safe:
        prefix += ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"]
    return subprocess.run(
        [*prefix, *args],
        cwd=cwd,
        env={**SETUP_ENV, **(env or {})},
        check=check,
        capture_output=True,
    )


@pytest.fixture
def markers(tmp_path) -> Path:
    path = tmp_path / "markers"
    path.mkdir()
    return path


def fired(markers: Path) -> list[str]:
    return sorted(p.name for p in markers.iterdir())


def touch_cmd(markers: Path, name: str) -> str:
    return f"touch {markers}/PWNED-{name}"


def script(path: Path, markers: Path, name: str) -> Path:
    path.write_text(f"#!/bin/sh\n{touch_cmd(markers, name)}\nexit 0\n")
    path.chmod(0o755)
    return path


def make_repo(path: Path, *, files: dict[str, bytes] | None = None, commits: int = 2) -> Path:
    git("init", "-q", "-b", "main", str(path))
    for i in range(commits):
        (path / f"file{i}.txt").write_text(f"line {i}\n")
        for name, data in (files or {}).items() if i == 0 else ():
            target = path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        git("add", "-A", cwd=path)
        git("commit", "-q", "-m", f"commit {i}", cwd=path)
    return path


# --- payloads: each takes (worktree or None, git_dir, markers) ----------------------------------


def p_fsmonitor(wt, gd, m):
    git("config", "--file", str(gd / "config"), "core.fsmonitor", str(script(gd / "fsm.sh", m, "fsmonitor")))


def p_pager(wt, gd, m):
    git("config", "--file", str(gd / "config"), "core.pager", touch_cmd(m, "pager"))


def p_ssh_command(wt, gd, m):
    git("config", "--file", str(gd / "config"), "core.sshCommand", touch_cmd(m, "sshCommand"))


def p_hooks_path(wt, gd, m):
    hooks = gd / "evil-hooks"
    hooks.mkdir()
    for name in HOOK_NAMES:
        script(hooks / name, m, f"hooksPath-{name}")
    git("config", "--file", str(gd / "config"), "core.hooksPath", str(hooks))


def p_hooks(wt, gd, m):
    (gd / "hooks").mkdir(exist_ok=True)
    for name in HOOK_NAMES:
        script(gd / "hooks" / name, m, f"hook-{name}")


def p_upload_pack_hook(wt, gd, m):
    # The one upload-pack setting that runs a command; git reads it only from protected config.
    git("config", "--file", str(gd / "config"), "uploadpack.packObjectsHook", touch_cmd(m, "packObjectsHook"))
    git("config", "--file", str(gd / "config"), "core.alternateRefsCommand", touch_cmd(m, "alternateRefs"))


def p_filters(wt, gd, m):
    cfg = str(gd / "config")
    git("config", "--file", cfg, "filter.x.smudge", touch_cmd(m, "smudge"))
    git("config", "--file", cfg, "filter.x.clean", touch_cmd(m, "clean"))
    git("config", "--file", cfg, "filter.x.required", "true")
    git("config", "--file", cfg, "diff.y.textconv", touch_cmd(m, "textconv"))
    git("config", "--file", cfg, "diff.y.command", touch_cmd(m, "diffcommand"))
    (gd / "info").mkdir(exist_ok=True)
    (gd / "info" / "attributes").write_text("* filter=x diff=y\n")


def p_filter_process(wt, gd, m):
    git("config", "--file", str(gd / "config"), "filter.x.process", touch_cmd(m, "process"))
    git("config", "--file", str(gd / "config"), "filter.x.required", "true")


def p_diff_external(wt, gd, m):
    git("config", "--file", str(gd / "config"), "diff.external", touch_cmd(m, "diff.external"))


def p_misc_config(wt, gd, m):
    cfg = str(gd / "config")
    git("config", "--file", cfg, "core.editor", touch_cmd(m, "editor"))
    git("config", "--file", cfg, "core.askPass", touch_cmd(m, "askpass"))
    git("config", "--file", cfg, "credential.helper", f"!{touch_cmd(m, 'credential')}")
    git("config", "--file", cfg, "gpg.program", touch_cmd(m, "gpg"))
    git("config", "--file", cfg, "log.showSignature", "true")
    git("config", "--file", cfg, "core.gitProxy", touch_cmd(m, "gitProxy"))
    git("config", "--file", cfg, "protocol.allow", "always")
    git("config", "--file", cfg, "include.path", str(gd / "included"))
    (gd / "included").write_text(f"[core]\n\tpager = {touch_cmd(m, 'included-pager')}\n")


def c_submodule(wt, m):
    head = git("rev-parse", "HEAD", cwd=wt).stdout.decode().strip()
    (wt / ".gitmodules").write_text(f'[submodule "evil"]\n\tpath = evil\n\turl = {evil_ext_url(m)}\n')
    git("update-index", "--add", "--cacheinfo", f"160000,{head},evil", cwd=wt)
    git("add", ".gitmodules", cwd=wt)
    git("commit", "-q", "-m", "add submodule", cwd=wt)


def evil_ext_url(m):
    return f"ext::sh -c {touch_cmd(m, 'submodule-ext').replace(' ', '% ')}"


def p_submodule(wt, gd, m):
    cfg = str(gd / "config")
    git("config", "--file", cfg, "submodule.evil.url", evil_ext_url(m))
    git("config", "--file", cfg, "submodule.evil.update", f"!{touch_cmd(m, 'submodule-update')}")
    git("config", "--file", cfg, "submodule.recurse", "true")
    git("config", "--file", cfg, "fetch.recurseSubmodules", "true")


def c_symlinks(wt, m):
    os.symlink(".git/hooks", wt / "evil")
    os.symlink(".git/config", wt / "evil-config")
    os.symlink("/etc/passwd", wt / "passwd")
    git("add", "evil", "evil-config", "passwd", cwd=wt)
    git("commit", "-q", "-m", "symlinks into .git", cwd=wt)


def p_nothing(wt, gd, m):
    pass


def p_evil_ref(wt, gd, m):
    # A valid ref name that becomes an option if passed to git without --end-of-options.
    ref = f"refs/heads/--output={m}/PWNED-ref-option"
    head = git("--git-dir", str(gd), "rev-parse", "HEAD").stdout.decode().strip()
    git("--git-dir", str(gd), "update-ref", ref, head)
    git("--git-dir", str(gd), "symbolic-ref", "HEAD", ref)


PAYLOADS = {
    "fsmonitor": p_fsmonitor,
    "pager": p_pager,
    "sshCommand": p_ssh_command,
    "hooksPath": p_hooks_path,
    "hooks": p_hooks,
    "uploadpack-hook": p_upload_pack_hook,
    "filters": p_filters,
    "filter-process": p_filter_process,
    "diff.external": p_diff_external,
    "misc-config": p_misc_config,
    "submodule": p_submodule,
    "symlinks": p_nothing,
    "evil-ref": p_evil_ref,
}
# Payloads that are commits in the history; applied before the repository takes its layout.
CONTENT = {"submodule": c_submodule, "symlinks": c_symlinks}
ALL_AT_ONCE = list(PAYLOADS)


def build_evil(tmp_path: Path, markers: Path, payloads: list[str], layout: str) -> tuple[Path, Path]:
    """Return (path to register, git dir). layout: worktree, bare or gitfile."""
    wt = make_repo(tmp_path / "src")
    # Tracked .gitattributes using the filter/diff drivers, committed before any payload.
    (wt / ".gitattributes").write_text("* filter=x diff=y\n")
    git("add", ".gitattributes", cwd=wt)
    git("commit", "-q", "-m", "attributes", cwd=wt)
    for name in payloads:
        if name in CONTENT:
            CONTENT[name](wt, markers)
    if layout == "bare":
        bare = tmp_path / "src.git"
        git("clone", "-q", "--bare", "--no-local", str(wt), str(bare))
        target, gd, wt = bare, bare, None
    elif layout == "gitfile":
        sep = tmp_path / "separate-gitdir"
        os.rename(wt / ".git", sep)
        (wt / ".git").write_text(f"gitdir: {sep}\n")
        target, gd = wt, sep
    else:
        target, gd = wt, wt / ".git"
    for name in payloads:
        PAYLOADS[name](wt, gd, markers)
    return target, gd


def add_commit(gd: Path, message: str) -> None:
    """A new commit made with plumbing only: no index, no filters, no hooks."""
    new = git("--git-dir", str(gd), "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", message)
    git("--git-dir", str(gd), "update-ref", "HEAD", new.stdout.decode().strip())


def read_everything(mirror: str) -> None:
    """What the product does with a mirror, and more: log with patches and stats, counts."""
    branch = gitsafe.default_branch(mirror)
    refs = gitsafe.list_refs(mirror)
    assert refs
    tips = sorted(set(refs.values()))
    with gitsafe.stream_git(
        mirror, "log", "-z", "--numstat", "-p", "--format=%H%x00%an%x00%s", "--end-of-options", *tips, "--"
    ) as proc:
        data = proc.stdout.read()
        proc.check()
    assert data
    gitsafe.run_git(mirror, "rev-list", "--count", "HEAD")
    gitsafe.run_git(mirror, "log", "--stat", "--textconv", "-M", "--all")
    gitsafe.run_git(mirror, "show", "HEAD")
    gitsafe.is_shallow(mirror)
    gitsafe.run_git(mirror, "commit-graph", "write", "--reachable")
    if branch:
        assert gitsafe.rev_count(mirror, branch) >= 1


def assert_mirror_is_clean(mirror: str) -> None:
    keys = {key for key, _ in gitsafe.mirror_config(mirror)}
    for bad in (
        "core.fsmonitor",
        "core.pager",
        "core.sshcommand",
        "diff.external",
        "include.path",
        "credential.helper",
        "submodule.evil.url",
    ):
        if bad in ("core.fsmonitor",):
            assert dict(gitsafe.mirror_config(mirror))[bad] == "false"
        else:
            assert bad not in keys
    assert dict(gitsafe.mirror_config(mirror))["core.hookspath"] == "/dev/null"
    assert not any(k.startswith(("filter.", "diff.", "uploadpack.", "protocol.")) for k in keys)
    assert not Path(mirror, "hooks").exists()
    assert not Path(mirror, "info", "attributes").exists()
    for root, _dirs, files in os.walk(mirror):
        for name in files:
            mode = os.lstat(os.path.join(root, name)).st_mode
            assert not mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH), f"executable {name} in mirror"


# --- the malicious repository suite ---------------------------------------------------------------


@pytest.mark.parametrize("layout", ["worktree", "bare", "gitfile"])
@pytest.mark.parametrize("payload", [*PAYLOADS, "all-at-once"])
def test_malicious_repository_runs_nothing(tmp_path, markers, payload, layout):
    payloads = ALL_AT_ONCE if payload == "all-at-once" else [payload]
    target, gd = build_evil(tmp_path, markers, payloads, layout)
    assert fired(markers) == []

    source = gitsafe.validate_source(str(target), allow_local_paths=True)
    assert source.kind == "path"
    mirror = str(tmp_path / "mirror.git")
    gitsafe.mirror_clone(source, mirror, timeout_s=30, max_bytes=50_000_000)
    read_everything(mirror)

    # A later fetch of new history from the same source runs nothing either.
    before = gitsafe.rev_count(mirror, "HEAD")
    add_commit(gd, "new")
    gitsafe.fetch_mirror(mirror, timeout_s=30, max_bytes=50_000_000)
    read_everything(mirror)
    assert gitsafe.rev_count(mirror, "HEAD") == before + 1
    add_commit(gd, "newer")  # and once more, fetching from a freshly validated source
    gitsafe.fetch_mirror(
        mirror,
        source=gitsafe.validate_source(str(target), allow_local_paths=True),
        timeout_s=30,
        max_bytes=50_000_000,
    )
    read_everything(mirror)
    assert gitsafe.rev_count(mirror, "HEAD") == before + 2

    assert fired(markers) == []
    assert_mirror_is_clean(mirror)


LIVE_CONTROLS = {
    "fsmonitor": (["status"], "PWNED-fsmonitor"),
    "hooksPath": (["commit", "-q", "--allow-empty", "-m", "x"], "PWNED-hooksPath-post-commit"),
    "hooks": (["commit", "-q", "--allow-empty", "-m", "x"], "PWNED-hook-post-commit"),
    "filters": (["checkout", "--", "file0.txt"], "PWNED-smudge"),
    "filter-process": (["checkout", "--", "file0.txt"], "PWNED-process"),
    "diff.external": (["diff"], "PWNED-diff.external"),
    "sshCommand": (["ls-remote", "ssh://example.invalid/x"], "PWNED-sshCommand"),
    "evil-ref": (["log", "-1", "--output-placeholder"], "PWNED-ref-option"),
}


@pytest.mark.parametrize("payload", list(LIVE_CONTROLS))
def test_payloads_are_live(tmp_path, markers, payload):
    """Control: the same payloads do fire under naive git use, so "0 markers" means something."""
    target, _gd = build_evil(tmp_path, markers, [payload], "worktree")
    args, marker = LIVE_CONTROLS[payload]
    if payload == "evil-ref":
        # A short branch name passed without --end-of-options is parsed as an option.
        args = ["log", "-1", git("symbolic-ref", "--short", "HEAD", cwd=target).stdout.decode().strip()]
    (target / "file0.txt").write_text("changed\n")
    if payload in ("filters", "filter-process"):
        (target / "file0.txt").unlink()
    git(*args, cwd=target, safe=False, check=False)
    assert marker in fired(markers)


def test_evil_ref_name_is_returned_in_full_and_passed_safely(tmp_path, markers):
    target, _ = build_evil(tmp_path, markers, ["evil-ref"], "bare")
    mirror = str(tmp_path / "m.git")
    gitsafe.mirror_clone(
        gitsafe.validate_source(str(target), allow_local_paths=True), mirror, timeout_s=30, max_bytes=10**8
    )
    branch = gitsafe.default_branch(mirror)
    assert branch == f"refs/heads/--output={markers}/PWNED-ref-option"
    assert gitsafe.rev_count(mirror, branch) == 3
    assert gitsafe.rev_count(mirror, [branch], exclude=[gitsafe.list_refs(mirror)["refs/heads/main"]]) == 0
    assert fired(markers) == []


def test_alternates_are_refused_because_upload_pack_follows_them(tmp_path, markers):
    """A repository borrowing objects from another one on the server could exfiltrate them."""
    secret = make_repo(tmp_path / "secret")
    secret_sha = git("rev-parse", "HEAD", cwd=secret).stdout.decode().strip()
    att = tmp_path / "att.git"
    git("init", "-q", "--bare", str(att))
    (att / "objects" / "info" / "alternates").write_text(f"{secret}/.git/objects\n")
    git("--git-dir", str(att), "update-ref", "refs/heads/main", secret_sha)

    with pytest.raises(GitError, match="alternates") as exc:
        gitsafe.validate_source(str(att), allow_local_paths=True)
    assert exc.value.code == "refused"
    # mirror_clone re-validates, so a hand-made Source cannot skip the check.
    with pytest.raises(GitError, match="alternates"):
        gitsafe.mirror_clone(Source("path", str(att)), str(tmp_path / "m.git"), timeout_s=10, max_bytes=10**8)
    assert not (tmp_path / "m.git").exists()

    # Documented behaviour: with the check skipped, `clone --no-local` does copy the secret.
    raw = tmp_path / "raw.git"
    cmd = gitsafe.git_command("-c", "protocol.file.allow=always", "clone", "--mirror", "--no-local", "-q")
    subprocess.run([*cmd, "--", str(att), str(raw)], env=gitsafe.git_env(), check=True, capture_output=True)
    assert gitsafe.has_commit(str(raw), secret_sha)


def test_promisor_lazy_fetch_in_source_runs_nothing(tmp_path, markers):
    """CVE-2024-32004 shape: a source claiming to be a partial clone whose promisor remote is ext::.

    upload-pack meets a missing object; a lazy fetch from the promisor would run the command.
    git 2.39.4+ disables lazy fetching in upload-pack, and our protocol.allow=never (command-line
    config beats the source's protocol.allow=always) blocks ext:: anyway. The clone just fails.
    """
    repo = make_repo(tmp_path / "r")
    blob = git("rev-parse", "HEAD:file1.txt", cwd=repo).stdout.decode().strip()
    os.unlink(repo / ".git" / "objects" / blob[:2] / blob[2:])
    cfg = str(repo / ".git" / "config")
    url = f"ext::sh -c {touch_cmd(markers, 'promisor').replace(' ', '% ')}"
    for key, value in (
        ("core.repositoryformatversion", "1"),
        ("extensions.partialClone", "evil"),
        ("remote.evil.url", url),
        ("remote.evil.promisor", "true"),
        ("protocol.allow", "always"),
        ("protocol.ext.allow", "always"),
    ):
        git("config", "--file", cfg, key, value)
    dest = tmp_path / "m.git"
    with pytest.raises(GitError):
        gitsafe.mirror_clone(
            gitsafe.validate_source(str(repo), allow_local_paths=True),
            str(dest),
            timeout_s=20,
            max_bytes=10**8,
        )
    assert not dest.exists()
    assert fired(markers) == []
    # Control: naive git in the source does try the promisor (and would run it where allowed).
    git("-c", "protocol.ext.allow=always", "cat-file", "-p", blob, cwd=repo, safe=False, check=False)
    assert fired(markers) == ["PWNED-promisor"]


def test_shallow_source_gives_a_shallow_mirror(tmp_path):
    full = make_repo(tmp_path / "full", commits=3)
    shallow = tmp_path / "shallow"
    git("clone", "-q", "--depth", "1", f"file://{full}", str(shallow))
    mirror = str(tmp_path / "m.git")
    gitsafe.mirror_clone(
        gitsafe.validate_source(str(shallow), allow_local_paths=True), mirror, timeout_s=30, max_bytes=10**8
    )
    assert gitsafe.is_shallow(mirror)
    assert gitsafe.rev_count(mirror, "refs/heads/main") == 1

    full_mirror = str(tmp_path / "full.git")
    gitsafe.mirror_clone(
        gitsafe.validate_source(str(full), allow_local_paths=True), full_mirror, timeout_s=30, max_bytes=10**8
    )
    assert not gitsafe.is_shallow(full_mirror)
    assert gitsafe.rev_count(full_mirror, "refs/heads/main") == 3
    assert gitsafe.default_branch(full_mirror) == "refs/heads/main"


# --- option and transport injection ---------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "--upload-pack=touch {m}/PWNED-upload-pack",
        "-uTOUCH",
        "--template={m}",
        "ext::sh -c touch% {m}/PWNED-ext",
        "ext::sh%20-c%20touch%20{m}/PWNED-ext2",
        "EXT::sh",
        "fd::3",
        "fd::3,4/x",
        "ssh://-oProxyCommand=touch%20{m}/PWNED-ssh-host/x",
        "ssh://-oProxyCommand=touch@host/x",
        "-oProxyCommand=touch:x",
        "git@-oProxyCommand=touch:repo",
        "git@host:-repo",
        "https://-host/x",
        "testgit::/tmp/x",
    ],
)
def test_option_and_transport_injection_refused(tmp_path, markers, source):
    source = source.format(m=markers)
    for allow in (False, True):
        with pytest.raises(GitError) as exc:
            gitsafe.validate_source(source, allow_local_paths=allow)
        assert exc.value.code == "refused"
    assert fired(markers) == []


@pytest.mark.parametrize(
    "source",
    [
        "--upload-pack=touch {m}/PWNED-upload-pack",
        "ext::sh -c touch% {m}/PWNED-ext",
        "fd::0",
        "file://{m}",
        "git://127.0.0.1:1/x",
    ],
)
def test_hardened_command_blocks_them_even_without_validation(tmp_path, markers, source):
    """Defence in depth: `--` and protocol.allow=never stop these even if validation were skipped."""
    source = source.format(m=markers)
    cmd = gitsafe.git_command("clone", "--mirror", "--quiet", "--", source, str(tmp_path / "m"))
    result = subprocess.run(
        cmd,
        env=gitsafe.git_env(),
        cwd=gitsafe.git_home(),
        capture_output=True,
        timeout=20,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode != 0
    assert fired(markers) == []


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("file:///tmp/x", "file://"),
        ("git://example.com/x.git", "unauthenticated"),
        ("http://example.com/x.git", "https"),
        ("ftp://example.com/x.git", "https"),
        ("https://example.com/x y", "spaces"),
        ("https://example.com/x\n", "control"),
        ("https://example.com/x\x00", "control"),
        ("https://example.com/x\u200b", "control"),
        ("https://example.com/", "no repository path"),
        ("https:///x", "no host"),
        ("https://example.com/x?a=b", "'?'"),
        ("https://example.com:99999/x", "malformed"),
        ("example.com/x.git", "https"),
        ("", "Enter"),
    ],
)
def test_bad_urls_refused_with_clear_messages(source, words):
    with pytest.raises(GitError, match=None) as exc:
        gitsafe.validate_source(source, allow_local_paths=False)
    assert exc.value.code == "refused"
    assert words in str(exc.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://alice:s3cr3t-pw@example.com/org/repo.git",
        "https://ghp_s3cr3t-pw@github.com/org/repo.git",
        "https://alice:s3cr3t-pw@example.com:8443/org/repo.git",
        "ssh://git:s3cr3t-pw@example.com/org/repo.git",
    ],
)
def test_credentials_in_url_refused_and_never_echoed(url):
    with pytest.raises(GitError) as exc:
        gitsafe.validate_source(url, allow_local_paths=False)
    assert "token field" in str(exc.value)
    assert "s3cr3t" not in str(exc.value)
    assert "s3cr3t" not in repr(exc.value)


def test_git_error_messages_strip_credentials():
    err = GitError("fatal: unable to access 'https://alice:s3cr3t@example.com/x.git/': 403")
    assert "s3cr3t" not in str(err) and "alice" not in str(err)
    assert "https://example.com/x.git/" in str(err)
    assert gitsafe.redact("Authorization: Bearer tok-123", "tok-123") == "Authorization: Bearer ***"
    assert str(Source("url", "https://a:b@h/x")) == "https://h/x"


@pytest.mark.parametrize(
    ("source", "transport"),
    [
        ("https://github.com/org/repo.git", "https"),
        ("HTTPS://github.com/org/repo", "https"),
        ("https://gitlab.example.com:8443/group/sub/repo.git", "https"),
        ("https://[::1]:8443/repo.git", "https"),
        ("ssh://git@github.com/org/repo.git", "ssh"),
        ("ssh://git@example.com:2222/~user/repo.git", "ssh"),
        ("ssh://example.com/repo", "ssh"),
        ("git@github.com:org/repo.git", "ssh"),
        ("example.com:repo.git", "ssh"),
    ],
)
def test_good_urls_accepted(source, transport):
    checked = gitsafe.validate_source(source, allow_local_paths=False)
    assert checked.kind == "url"
    assert checked.transport == transport


# --- local paths and bad inputs -------------------------------------------------------------------


def test_local_paths_need_permission_and_must_be_absolute(tmp_path):
    repo = make_repo(tmp_path / "r")
    with pytest.raises(GitError, match="Local paths are not allowed"):
        gitsafe.validate_source(str(repo), allow_local_paths=False)
    with pytest.raises(GitError, match="absolute"):
        gitsafe.validate_source("r", allow_local_paths=True)
    with pytest.raises(GitError, match="absolute"):
        gitsafe.validate_source("./r", allow_local_paths=True)
    with pytest.raises(GitError, match="absolute"):
        gitsafe.validate_source("~/r", allow_local_paths=True)
    with pytest.raises(GitError, match="does not exist"):
        gitsafe.validate_source(str(tmp_path / "missing"), allow_local_paths=True)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "HEAD").write_text("ref: refs/heads/main\n")  # HEAD alone is not enough
    with pytest.raises(GitError, match="Not a git repository") as exc:
        gitsafe.validate_source(str(tmp_path / "plain"), allow_local_paths=True)
    assert exc.value.code == "not_a_repository"
    (tmp_path / "file").write_text("x")
    with pytest.raises(GitError, match="not a directory"):
        gitsafe.validate_source(str(tmp_path / "file"), allow_local_paths=True)
    real = Source("path", str((repo / ".git").resolve()))
    assert gitsafe.validate_source(str(repo) + "/", allow_local_paths=True) == real
    assert gitsafe.validate_source(str(repo / ".git"), allow_local_paths=True) == real


def test_local_path_value_is_the_real_git_dir(tmp_path):
    """Pointers (symlinks, gitdir files, worktrees) are resolved so root checks see the target."""
    elsewhere = make_repo(tmp_path / "other-tenant")
    real = str((elsewhere / ".git").resolve())
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    os.symlink(elsewhere, allowed / "link")
    assert gitsafe.validate_source(str(allowed / "link"), allow_local_paths=True).value == real
    (allowed / "gitfile").mkdir()
    (allowed / "gitfile" / ".git").write_text(f"gitdir: {elsewhere}/.git\n")
    assert gitsafe.validate_source(str(allowed / "gitfile"), allow_local_paths=True).value == real
    git("worktree", "add", "-q", str(allowed / "wt"), "-b", "wt", cwd=elsewhere)
    assert gitsafe.validate_source(str(allowed / "wt"), allow_local_paths=True).value == real


def test_not_a_repository_when_validation_is_outrun(tmp_path):
    """If the path stops being a repository between validation and clone, git's error is mapped."""
    repo = make_repo(tmp_path / "r")
    source = gitsafe.validate_source(str(repo), allow_local_paths=True)
    os.rename(repo / ".git", tmp_path / "moved")
    (repo / ".git").mkdir()
    for name in ("objects", "refs"):
        (repo / ".git" / name).mkdir()
    (repo / ".git" / "HEAD").write_text("garbage\n")
    dest = tmp_path / "m.git"
    with pytest.raises(GitError) as exc:
        gitsafe.mirror_clone(source, str(dest), timeout_s=10, max_bytes=10**8)
    assert exc.value.code == "not_a_repository"
    assert not dest.exists()


def test_empty_repository(tmp_path):
    empty = tmp_path / "empty"
    git("init", "-q", str(empty))
    dest = tmp_path / "m.git"
    with pytest.raises(GitError, match="empty") as exc:
        gitsafe.mirror_clone(
            gitsafe.validate_source(str(empty), allow_local_paths=True),
            str(dest),
            timeout_s=10,
            max_bytes=10**8,
        )
    assert exc.value.code == "empty"
    assert not dest.exists()


def test_clone_timeout_kills_git(tmp_path):
    """A source whose packed-refs is a FIFO makes upload-pack block forever: a real hang."""
    repo = make_repo(tmp_path / "r")
    os.mkfifo(repo / ".git" / "packed-refs")
    dest = tmp_path / "m.git"
    start = time.monotonic()
    with pytest.raises(GitError, match="timed out after 1 s") as exc:
        gitsafe.mirror_clone(
            gitsafe.validate_source(str(repo), allow_local_paths=True),
            str(dest),
            timeout_s=1,
            max_bytes=10**8,
        )
    assert time.monotonic() - start < 4
    assert exc.value.code == "timeout"
    assert not dest.exists()
    # Nothing of ours is left running on the FIFO.
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(repo) not in ps


def test_size_cap(tmp_path):
    repo = make_repo(tmp_path / "big", files={"blob.bin": os.urandom(2 * 1024 * 1024)})
    dest = tmp_path / "m.git"
    with pytest.raises(GitError, match="larger than") as exc:
        gitsafe.mirror_clone(
            gitsafe.validate_source(str(repo), allow_local_paths=True),
            str(dest),
            timeout_s=30,
            max_bytes=100_000,
        )
    assert exc.value.code == "too_large"
    assert not dest.exists()


def test_clone_into_existing_nonempty_dest_refused(tmp_path):
    repo = make_repo(tmp_path / "r")
    dest = tmp_path / "m.git"
    dest.mkdir()
    (dest / "keep").write_text("x")
    with pytest.raises(GitError, match="already exists"):
        gitsafe.mirror_clone(
            gitsafe.validate_source(str(repo), allow_local_paths=True),
            str(dest),
            timeout_s=10,
            max_bytes=10**8,
        )
    assert (dest / "keep").exists()


def test_clone_fetch_and_helpers(tmp_path):
    repo = make_repo(tmp_path / "r", commits=2)
    mirror = str(tmp_path / "m.git")
    seen = []
    gitsafe.mirror_clone(
        gitsafe.validate_source(str(repo), allow_local_paths=True),
        mirror,
        timeout_s=30,
        max_bytes=10**8,
        progress=seen.append,
    )
    assert seen and seen[-1] > 0
    refs = gitsafe.list_refs(mirror)
    assert set(refs) == {"refs/heads/main"}
    old_tip = refs["refs/heads/main"]
    assert gitsafe.has_commit(mirror, old_tip)
    assert not gitsafe.has_commit(mirror, "0" * 40)
    assert not gitsafe.has_commit(mirror, "--all")

    (repo / "more.txt").write_text("more\n")
    git("add", "more.txt", cwd=repo)
    git("commit", "-q", "-m", "more", cwd=repo)
    git("branch", "feature", cwd=repo)
    gitsafe.fetch_mirror(mirror, timeout_s=30, max_bytes=10**8)
    refs = gitsafe.list_refs(mirror)
    assert set(refs) == {"refs/heads/main", "refs/heads/feature"}
    assert gitsafe.rev_count(mirror, refs["refs/heads/main"]) == 3
    assert gitsafe.rev_count(mirror, list(refs.values()), exclude=[old_tip]) == 1

    git("branch", "-D", "feature", cwd=repo)
    fresh = gitsafe.validate_source(str(repo), allow_local_paths=True)
    gitsafe.fetch_mirror(mirror, source=fresh, timeout_s=30, max_bytes=10**8)
    assert set(gitsafe.list_refs(mirror)) == {"refs/heads/main"}  # pruned

    with gitsafe.stream_git(
        mirror, "log", "--format=%s", "--end-of-options", "refs/heads/main", "--"
    ) as proc:
        subjects = proc.stdout.read().decode().split()
        gitsafe.finish_stream(proc)
    assert subjects[0] == "more"

    proc = gitsafe.stream_git(mirror, "log", "--end-of-options", "no-such-rev", "--")
    proc.stdout.read()
    with pytest.raises(GitError, match="git failed"):
        proc.check()
    proc.stdout.close()

    with pytest.raises(GitError, match="git rev-list failed"):
        gitsafe.run_git(mirror, "rev-list", "--end-of-options", "no-such-rev", "--")
    assert gitsafe.run_git(mirror, "hash-object", "--stdin", input=b"x\n").strip()


def test_fetch_refuses_a_tampered_mirror_config(tmp_path, markers):
    repo = make_repo(tmp_path / "r")
    mirror = tmp_path / "m.git"
    gitsafe.mirror_clone(
        gitsafe.validate_source(str(repo), allow_local_paths=True), str(mirror), timeout_s=30, max_bytes=10**8
    )
    git("config", "--file", str(mirror / "config"), "core.sshCommand", touch_cmd(markers, "tampered"))
    with pytest.raises(GitError, match="core.sshcommand"):
        gitsafe.fetch_mirror(str(mirror), timeout_s=10, max_bytes=10**8)
    git("config", "--file", str(mirror / "config"), "--unset", "core.sshCommand")
    git("config", "--file", str(mirror / "config"), "remote.origin.url", "ext::sh -c touch% /tmp/x")
    with pytest.raises(GitError) as exc:
        gitsafe.fetch_mirror(str(mirror), timeout_s=10, max_bytes=10**8)
    assert exc.value.code == "refused"
    assert fired(markers) == []


def test_fetch_size_cap(tmp_path):
    repo = make_repo(tmp_path / "r")
    mirror = str(tmp_path / "m.git")
    gitsafe.mirror_clone(
        gitsafe.validate_source(str(repo), allow_local_paths=True), mirror, timeout_s=30, max_bytes=10**8
    )
    (repo / "blob.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    git("add", "blob.bin", cwd=repo)
    git("commit", "-q", "-m", "big", cwd=repo)
    with pytest.raises(GitError, match="larger than") as exc:
        gitsafe.fetch_mirror(mirror, timeout_s=30, max_bytes=500_000)
    assert exc.value.code == "too_large"


def test_stream_timeout(tmp_path, monkeypatch):
    fake = tmp_path / "slow-git"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setattr(gitsafe, "GIT", str(fake))
    start = time.monotonic()
    proc = gitsafe.stream_git(str(tmp_path), "log", timeout_s=0.5)
    assert proc.stdout.read() == b""
    with pytest.raises(GitError, match="timed out") as exc:
        proc.check()
    proc.stdout.close()
    assert exc.value.code == "timeout"
    assert time.monotonic() - start < 3
    with pytest.raises(GitError, match="timed out after 0.5 s"):
        gitsafe.run_git(str(tmp_path), "log", timeout_s=0.5)


# --- command line and environment -----------------------------------------------------------------


def test_git_command_and_env(monkeypatch):
    cmd = gitsafe.git_command("log", git_dir="/srv/m.git")
    assert cmd[0] == "git" and cmd[-2:] == ["--git-dir=/srv/m.git", "log"]
    settings = {cmd[i + 1] for i, part in enumerate(cmd) if part == "-c"}
    for needed in (
        "core.hooksPath=/dev/null",
        "core.fsmonitor=false",
        "core.pager=cat",
        "core.sshCommand=ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
        "protocol.allow=never",
        "protocol.file.allow=never",
        "protocol.https.allow=always",
        "protocol.ssh.allow=always",
        "core.symlinks=false",
        "submodule.recurse=false",
        "fetch.recurseSubmodules=false",
        "diff.external=",
        "core.attributesFile=/dev/null",
        "gc.auto=0",
        "maintenance.auto=false",
        "credential.helper=",
    ):
        assert needed in settings
    assert not any(s.startswith("safe.directory") for s in settings)

    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_CONFIG_PARAMETERS", "GIT_SSH_COMMAND", "https_proxy"):
        monkeypatch.setenv(name, "/evil")
    env = gitsafe.git_env()
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_CONFIG_PARAMETERS", "GIT_SSH_COMMAND", "https_proxy"):
        assert name not in env
    assert env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert env["GIT_CONFIG_GLOBAL"] == "/dev/null"
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_PROTOCOL_FROM_USER"] == "0"
    assert env["GIT_ATTR_NOSYSTEM"] == "1"
    assert env["LC_ALL"] == "C"
    home = Path(env["HOME"])
    assert home.is_dir() and not any(home.iterdir())
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_auth_header_travels_in_the_environment_only():
    src = Source("url", "https://example.com/r.git")
    env = gitsafe._auth_env(src, "Bearer tok")
    assert env == {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": "Authorization: Bearer tok",
    }
    assert gitsafe._auth_env(Source("url", "git@example.com:r.git"), "Bearer tok") == {}
    with pytest.raises(GitError):
        gitsafe._auth_env(src, "Bearer tok\nX-Evil: 1")

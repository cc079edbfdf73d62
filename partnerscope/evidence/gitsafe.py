"""The only place that runs git on untrusted repositories.

Clients register repositories (an https/ssh clone URL or, when the deployment allows it, a path
on the server). Everything about them is attacker-controlled: URLs, repository config, hooks,
attributes, ref names, object contents, sizes. The rules this module enforces:

* Only ``https://``, ``ssh://`` and scp-like ``user@host:path`` URLs, or absolute paths to a git
  repository when ``allow_local_paths`` is set (checked by looking at files, never by running git
  inside the path). Transport helpers (``ext::``, ``fd::``), ``file://``, ``git://``, ``http://``,
  anything starting with ``-`` and credentials inside URLs are refused.
* git never runs inside a repository the user supplied. A local path is read only as a transport:
  ``git clone --mirror --no-local`` makes git spawn ``git-upload-pack <path>``, which serves refs
  and objects and honours no command-running setting from that repository's config (hooks are
  not run by upload-pack; ``uploadpack.packObjectsHook`` is only read from protected config;
  fsmonitor, pager, filters and diff drivers need an index or a work tree, which upload-pack
  never touches). Every later command runs on OUR bare mirror, whose config we create and check.
* Every command gets a hardened ``-c`` prefix (:func:`git_command`) and a minimal environment
  (:func:`git_env`): hooks, fsmonitor, pager, external diff, attributes, credential helpers and
  all transports except https/ssh are switched off, no system/global config is read.
* ``--`` precedes every user-supplied URL or path; revisions that may come from the repository
  (ref names such as ``refs/heads/--output=/tmp/x`` are valid!) follow ``--end-of-options``.
* Clones and fetches are killed after a time limit and when the mirror outgrows a size cap.

This module imports nothing from Django so that it can be used from workers and benchmarks.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Literal
from urllib.parse import urlsplit

__all__ = [
    "GitError",
    "GitStream",
    "Source",
    "default_branch",
    "fetch_mirror",
    "finish_stream",
    "git_command",
    "git_home",
    "git_env",
    "has_commit",
    "is_shallow",
    "list_refs",
    "mirror_clone",
    "mirror_config",
    "redact",
    "rev_count",
    "run_git",
    "stream_git",
    "validate_source",
]

#: The git executable; tests may point it at a wrapper.
GIT = "git"

#: Seconds between two size checks of a clone or fetch in progress.
POLL_INTERVAL_S = 0.5

DEFAULT_TIMEOUT_S = 120.0

_STDERR_TAIL_CHARS = 600

# Hardened settings for every git invocation. Later ``-c`` entries win, which is how
# :func:`_transport_config` re-enables the file transport for one local clone/fetch.
_HARDENED_CONFIG: tuple[str, ...] = (
    # Nothing from a repository (or from a template) may run a program.
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.pager=cat",
    "core.editor=false",
    "core.askPass=",
    "core.attributesFile=/dev/null",
    "core.symlinks=false",
    "diff.external=",
    "credential.helper=",
    "log.showSignature=false",
    "color.ui=false",
    # No background or automatic maintenance on the mirror.
    "gc.auto=0",
    "maintenance.auto=false",
    # Transports: only https and ssh. ``protocol.<name>.allow`` overrides ``protocol.allow``.
    "protocol.allow=never",
    "protocol.https.allow=always",
    "protocol.ssh.allow=always",
    "protocol.file.allow=never",
    "protocol.ext.allow=never",
    "protocol.fd.allow=never",
    "http.sslVerify=true",
    "transfer.bundleURI=false",
    # Our own ssh command: never prompts, takes no ProxyCommand or options from the repository.
    "core.sshCommand=ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
    "ssh.variant=ssh",
    # Submodules are never fetched.
    "submodule.recurse=false",
    "fetch.recurseSubmodules=false",
)

# Keys git itself writes into a fresh ``clone --mirror`` config, and the ones we add.
_MIRROR_SAFE_SETTINGS: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
)
_MIRROR_ALLOWED_KEYS = frozenset(
    {
        "core.repositoryformatversion",
        "core.filemode",
        "core.bare",
        "core.logallrefupdates",
        "core.ignorecase",
        "core.precomposeunicode",
        "core.symlinks",
        "extensions.objectformat",
        "remote.origin.url",
        "remote.origin.fetch",
        "remote.origin.mirror",
        *(key.lower() for key, _ in _MIRROR_SAFE_SETTINGS),
    }
)


class GitError(Exception):
    """A user-facing failure. The message never contains URL credentials.

    ``code`` is one of: ``refused`` (the source was rejected before running git), ``timeout``,
    ``too_large``, ``not_a_repository``, ``empty``, ``access_denied``, ``failed``.
    """

    def __init__(self, message: str, *, code: str = "failed"):
        super().__init__(redact(message))
        self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0])


_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")


def redact(text: str, *secrets: str | None) -> str:
    """Remove userinfo from ``scheme://user:pass@host`` URLs and any given secret from ``text``."""
    text = _USERINFO_RE.sub(r"\1", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


# --------------------------------------------------------------------------------------------
# Source validation (no git is run here)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A validated repository source: ``kind`` is ``"url"`` (https or ssh) or ``"path"``."""

    kind: Literal["url", "path"]
    value: str

    @property
    def transport(self) -> str:
        """``https``, ``ssh`` or ``file`` (a local path)."""
        if self.kind == "path":
            return "file"
        return "https" if self.value.lower().startswith("https://") else "ssh"

    def __str__(self) -> str:
        return redact(self.value)


_HOST_RE = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[[0-9A-Fa-f:.]+\])$")
_SSH_USER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# scp-like syntax as git parses it: a colon before any slash; optional ``user@``.
_SCP_RE = re.compile(r"^(?:(?P<user>[^@/:]+)@)?(?P<host>[^@/:]+):(?P<path>.*)$")
_SCHEME_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_HELPER_RE = re.compile(r"^(?P<helper>[A-Za-z][A-Za-z0-9+.-]*)::")


def _refuse(message: str) -> GitError:
    return GitError(message, code="refused")


def validate_source(source: str, *, allow_local_paths: bool) -> Source:
    """Check a user-supplied repository source; raise :class:`GitError` (code ``refused``).

    Never runs git. A local path must be absolute, exist and look like a git repository
    (a bare repository, or a work tree whose ``.git`` is a directory or a ``gitdir:`` file).
    """
    if not isinstance(source, str) or not source.strip():
        raise _refuse("Enter a repository URL.")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in source):
        raise _refuse("The repository URL must not contain spaces or control characters.")
    if source.startswith("-"):
        raise _refuse("The repository URL must not start with '-'.")

    helper = _HELPER_RE.match(source)
    if helper:
        name = helper["helper"].lower()
        if name in ("ext", "fd"):
            raise _refuse(f"'{name}::' transports run commands and are not allowed; use an https or ssh URL.")
        raise _refuse("Transport helpers ('name::address') are not allowed; use an https or ssh URL.")

    scheme_match = _SCHEME_RE.match(source)
    if scheme_match:
        scheme = scheme_match["scheme"].lower()
        if scheme == "https":
            return _validate_https("https" + source[len(scheme) :])
        if scheme in ("ssh", "git+ssh", "ssh+git"):
            return _validate_ssh_url("ssh" + source[len(scheme) :])
        if scheme == "http":
            raise _refuse("Plain http:// is not allowed; use https://.")
        if scheme == "git":
            raise _refuse("git:// is unauthenticated and unencrypted; use an https or ssh URL.")
        if scheme == "file":
            raise _refuse("file:// URLs are not allowed; use an https or ssh URL.")
        raise _refuse(f"'{scheme}://' URLs are not supported; use an https or ssh URL.")

    if source.startswith("/"):
        if not allow_local_paths:
            raise _refuse("Local paths are not allowed; use an https or ssh URL.")
        return _validate_local_path(source)

    scp = _SCP_RE.match(source)
    if scp:
        return _validate_scp(source, scp["user"], scp["host"], scp["path"])

    if allow_local_paths:
        raise _refuse("A local repository path must be absolute (start with '/').")
    raise _refuse("Enter an https:// or ssh:// repository URL.")


def _check_host(host: str | None) -> None:
    if not host:
        raise _refuse("The repository URL has no host.")
    if host.startswith("-"):
        raise _refuse("The repository host must not start with '-'.")
    if not _HOST_RE.match(host):
        raise _refuse("The repository URL has an invalid host name.")


def _check_remote_path(path: str) -> None:
    stripped = path.lstrip("/")
    if not stripped:
        raise _refuse("The repository URL has no repository path.")
    if stripped.startswith("-"):
        raise _refuse("The repository path must not start with '-'.")


def _split(source: str):
    try:
        parts = urlsplit(source)
        port = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise _refuse("The repository URL is malformed.") from None
    if parts.query or parts.fragment or "?" in source or "#" in source:
        raise _refuse("The repository URL must not contain '?' or '#'.")
    host = parts.netloc.rpartition("@")[2]
    host = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
    return parts, host, port


def _validate_https(source: str) -> Source:
    parts, host, _port = _split(source)
    if "@" in parts.netloc:
        raise _refuse("Put credentials in the token field, not the URL.")
    _check_host(host)
    _check_remote_path(parts.path)
    return Source("url", source)


def _validate_ssh_url(source: str) -> Source:
    parts, host, _port = _split(source)
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        if ":" in userinfo:
            raise _refuse("Put credentials in the token field, not the URL.")
        if not _SSH_USER_RE.match(userinfo):
            raise _refuse("The ssh user name in the repository URL is invalid.")
    _check_host(host)
    _check_remote_path(parts.path)
    return Source("url", source)


def _validate_scp(source: str, user: str | None, host: str, path: str) -> Source:
    if user is not None and not _SSH_USER_RE.match(user):
        raise _refuse("The ssh user name in the repository URL is invalid.")
    _check_host(host)
    if not path or path.startswith("-"):
        raise _refuse("The repository path after ':' must not be empty or start with '-'.")
    return Source("url", source)


def _looks_like_git_dir(path: str) -> str | None:
    """The real path of the repository whose git dir is ``path`` (its common dir), or None.

    Reads files only. A linked worktree's git dir names the shared repository in ``commondir``.
    """
    if not os.path.isfile(os.path.join(path, "HEAD")):
        return None
    common = path
    commondir_file = os.path.join(path, "commondir")
    if os.path.isfile(commondir_file):
        target = _read_small(commondir_file).strip()
        if not target:
            return None
        common = os.path.join(path, target)
    common = os.path.realpath(common)
    if os.path.isdir(os.path.join(common, "objects")) and os.path.isdir(os.path.join(common, "refs")):
        return common
    return None


def _read_small(path: str, limit: int = 4096) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(limit)
    except OSError:
        return ""


def _validate_local_path(source: str) -> Source:
    """Return the REAL path of the repository's git directory as the source value.

    Symlinks, ``.git`` files (``gitdir: ...``) and linked worktrees are resolved here, so the
    caller's "is it under an allowed folder" check applies to the directory git will actually
    read, not to a pointer that could lead to another tenant's data.
    """
    path = os.path.normpath(source)
    if not os.path.exists(path):
        raise _refuse("The repository path does not exist.")
    if not os.path.isdir(path):
        raise _refuse("The repository path is not a directory.")
    git_dir = _looks_like_git_dir(path)  # bare repository (or a .git directory itself)
    if git_dir is None:
        dotgit = os.path.join(path, ".git")
        if os.path.isdir(dotgit):
            git_dir = _looks_like_git_dir(dotgit)
        elif os.path.isfile(dotgit):
            content = _read_small(dotgit)
            if content.startswith("gitdir:"):
                target = content[len("gitdir:") :].strip()
                git_dir = _looks_like_git_dir(os.path.join(path, target))
    if git_dir is None:
        raise GitError("Not a git repository.", code="not_a_repository")
    # Alternates make upload-pack serve objects from another repository on this server
    # (verified: a ref pointing at a commit that exists only in the alternate is cloned).
    for name in ("alternates", "http-alternates"):
        if os.path.lexists(os.path.join(git_dir, "objects", "info", name)):
            raise _refuse(
                "Repositories that borrow objects from another repository (objects/info/alternates) "
                "are not supported; repack the repository first."
            )
    return Source("path", git_dir)


# --------------------------------------------------------------------------------------------
# Command line and environment
# --------------------------------------------------------------------------------------------


def git_command(*args: str, git_dir: str | None = None) -> list[str]:
    """``["git", "-c", ..., ("--git-dir=<git_dir>"), *args]`` with the hardened settings."""
    cmd = [GIT]
    for setting in _HARDENED_CONFIG:
        cmd += ["-c", setting]
    if git_dir is not None:
        cmd.append(f"--git-dir={os.path.abspath(git_dir)}")
    cmd.extend(args)
    return cmd


_home_lock = threading.Lock()
_home_dir: str | None = None


def git_home() -> str:
    """A private, empty directory used as HOME and working directory for git (0700)."""
    global _home_dir
    with _home_lock:
        if _home_dir is None or not os.path.isdir(_home_dir):
            _home_dir = tempfile.mkdtemp(prefix="partnerscope-git-home-")
            os.chmod(_home_dir, 0o700)
            atexit.register(shutil.rmtree, _home_dir, True)
        return _home_dir


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal environment for git: nothing inherited except PATH (no GIT_DIR, proxies, ...)."""
    home = git_home()
    env = {
        "PATH": os.environ.get("PATH") or "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "XDG_CONFIG_HOME": home,
        # git runs in ``home``; never look for a repository above it (CVE-2022-24765 shape).
        "GIT_CEILING_DIRECTORIES": os.path.dirname(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_ATTR_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
        "SSH_ASKPASS": "",
        "SSH_ASKPASS_REQUIRE": "never",
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
        "LC_ALL": "C",
        "LANG": "C",
    }
    if extra:
        env.update(extra)
    return env


def _transport_config(source: Source) -> list[str]:
    """Extra ``-c`` for the one clone/fetch command that reads a validated local path.

    Safe because the file transport is only used against ``source.value``, an absolute path that
    :func:`validate_source` checked is a repository without alternates, through
    ``--no-local`` (git spawns ``git-upload-pack <path>``; it never runs hooks, fsmonitor,
    pagers, filters or diff drivers, and reads ``uploadpack.packObjectsHook`` only from protected
    config, which we blank out with GIT_CONFIG_NOSYSTEM/GLOBAL). Submodules are not fetched, so no
    nested file:// fetch can happen. The tests in tests/evidence/test_gitsafe.py prove it.
    """
    return ["-c", "protocol.file.allow=always"] if source.kind == "path" else []


def _auth_env(source: Source, auth_header: str | None) -> dict[str, str]:
    """Pass an https Authorization header through the environment (never argv, never config)."""
    if not auth_header or source.transport != "https":
        return {}
    if any(ch in auth_header for ch in "\r\n\0"):
        raise _refuse("The access token contains invalid characters.")
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: {auth_header}",
    }


# --------------------------------------------------------------------------------------------
# Process handling
# --------------------------------------------------------------------------------------------


def _kill(proc: subprocess.Popen) -> None:
    """Kill git and every child it spawned (upload-pack, index-pack, ssh, remote helpers)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()


def _tail(fh: IO[bytes] | None, *secrets: str | None) -> str:
    if fh is None:
        return ""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(max(0, size - 4 * _STDERR_TAIL_CHARS))
    text = fh.read().decode("utf-8", errors="replace")
    return _clean_tail(text, *secrets)


def _clean_tail(text: str, *secrets: str | None) -> str:
    text = "".join(ch if ch.isprintable() or ch == "\n" else "\n" for ch in text.replace("\r", "\n"))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    text = " ".join(lines)[-_STDERR_TAIL_CHARS:]
    return redact(text, *secrets)


def _dir_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _fmt_mb(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:.0f} MB" if mb >= 10 else f"{mb:.2g} MB"


def _run_capped(
    cmd: list[str],
    *,
    env: dict[str, str],
    watch_dir: str,
    timeout_s: float,
    max_bytes: int,
    progress: Callable[[int], None] | None,
    what: str,
    secrets: tuple[str | None, ...],
) -> None:
    """Run a clone/fetch, killing it on timeout or when ``watch_dir`` exceeds ``max_bytes``."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=git_home(),
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    _kill(proc)
                    raise GitError(f"{what} timed out after {timeout_s:g} s.", code="timeout")
                try:
                    proc.wait(timeout=min(POLL_INTERVAL_S, remaining))
                    break
                except subprocess.TimeoutExpired:
                    pass
                size = _dir_size(watch_dir)
                if size > max_bytes:
                    _kill(proc)
                    raise GitError(f"Repository larger than {_fmt_mb(max_bytes)}.", code="too_large")
                if progress is not None:
                    progress(size)
        except BaseException:
            if proc.returncode is None:
                _kill(proc)
            raise
        if proc.returncode != 0:
            raise _classify_failure(what, _tail(err, *secrets))
    size = _dir_size(watch_dir)
    if size > max_bytes:
        raise GitError(f"Repository larger than {_fmt_mb(max_bytes)}.", code="too_large")
    if progress is not None:
        progress(size)


def _classify_failure(what: str, tail: str) -> GitError:
    low = tail.lower()
    if "does not appear to be a git repository" in low or "not a git repository" in low:
        return GitError("Not a git repository.", code="not_a_repository")
    if low.startswith("fatal: repository '") and "does not exist" in low:
        return GitError("Not a git repository, or it no longer exists.", code="not_a_repository")
    if "detected dubious ownership" in low or "unsafe repository" in low:
        return GitError(
            "The repository directory is owned by another user; the server refuses to read it.",
            code="access_denied",
        )
    denied = (
        "authentication failed",
        "repository not found",
        "could not read username",
        "terminal prompts disabled",
        "permission denied",
        "could not read from remote repository",
        "host key verification failed",
        "403",
        "401",
    )
    if any(marker in low for marker in denied):
        return GitError(
            f"{what} failed: access denied or repository not found ({tail}).", code="access_denied"
        )
    return GitError(f"{what} failed: {tail or 'git exited with an error'}.", code="failed")


# --------------------------------------------------------------------------------------------
# Clone and fetch
# --------------------------------------------------------------------------------------------


def mirror_clone(
    source: Source,
    dest: str,
    *,
    timeout_s: float,
    max_bytes: int,
    progress: Callable[[int], None] | None = None,
    auth_header: str | None = None,
) -> None:
    """Create a bare mirror of ``source`` at ``dest`` (which must not exist or be empty).

    ``progress(bytes_on_disk)`` is called about every :data:`POLL_INTERVAL_S` seconds.
    ``auth_header`` (e.g. ``"Bearer <token>"``) is sent as ``Authorization`` for https sources;
    it travels through the environment, never on the command line.
    On any failure the partial ``dest`` is removed and :class:`GitError` is raised.
    """
    # Re-check: a Source may have been built by hand, and a path may have changed since.
    if source.kind not in ("url", "path"):
        raise _refuse("Unknown repository source.")
    checked = validate_source(source.value, allow_local_paths=source.kind == "path")
    if checked.kind != source.kind:
        raise _refuse("The repository source does not match its kind.")
    dest = os.path.abspath(dest)
    if os.path.lexists(dest) and (not os.path.isdir(dest) or os.listdir(dest)):
        raise GitError("The mirror destination already exists.", code="failed")
    created_parent = not os.path.lexists(dest)
    cmd = [
        *git_command(),
        *_transport_config(checked),
        "clone",
        "--mirror",
        "--no-local",
        "--no-hardlinks",
        "--quiet",
        "--template=",
        "--",
        checked.value,
        dest,
    ]
    env = git_env(_auth_env(checked, auth_header))
    os.makedirs(dest, exist_ok=True)  # so the size poll has something to measure
    try:
        _run_capped(
            cmd,
            env=env,
            watch_dir=dest,
            timeout_s=timeout_s,
            max_bytes=max_bytes,
            progress=progress,
            what="Clone",
            secrets=(auth_header,),
        )
        if not list_refs(dest):
            raise GitError("Repository is empty (it has no commits).", code="empty")
        _harden_mirror(dest)
    except BaseException:
        if created_parent:
            shutil.rmtree(dest, ignore_errors=True)
        else:
            _empty_dir(dest)
        raise


def _empty_dir(path: str) -> None:
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(full)


def mirror_config(git_dir: str) -> list[tuple[str, str]]:
    """The (key, value) pairs in the mirror's own config file only."""
    out = run_git(None, "config", "--file", os.path.join(git_dir, "config"), "--null", "--list")
    pairs = []
    for entry in out.decode("utf-8", errors="replace").split("\0"):
        if entry:
            key, _, value = entry.partition("\n")
            pairs.append((key.lower(), value))
    return pairs


def _harden_mirror(git_dir: str) -> None:
    """Write our safe settings into the mirror and check nothing else is configured."""
    config_file = os.path.join(git_dir, "config")
    for key, value in _MIRROR_SAFE_SETTINGS:
        run_git(None, "config", "--file", config_file, key, value)
    unexpected = sorted({key for key, _ in mirror_config(git_dir)} - _MIRROR_ALLOWED_KEYS)
    if unexpected:
        raise GitError(f"Unexpected settings in the mirror configuration: {', '.join(unexpected)}.")
    # ``--template=`` means no hooks directory is created; make sure of it.
    shutil.rmtree(os.path.join(git_dir, "hooks"), ignore_errors=True)


def _mirror_source(git_dir: str) -> Source:
    urls = [value for key, value in mirror_config(git_dir) if key == "remote.origin.url"]
    if len(urls) != 1:
        raise GitError("The mirror has no origin URL.")
    url = urls[0]
    return validate_source(url, allow_local_paths=url.startswith("/"))


def fetch_mirror(
    dest: str,
    *,
    source: Source | None = None,
    timeout_s: float,
    max_bytes: int,
    progress: Callable[[int], None] | None = None,
    auth_header: str | None = None,
) -> None:
    """Update a mirror made by :func:`mirror_clone` (``fetch --prune origin``) with the same caps.

    Without ``source`` the origin URL in the mirror's config is validated again and fetched.
    Pass ``source`` (freshly checked, e.g. against the allowed server folders) to fetch from it
    instead: for a local path this re-resolves symlinks and ``.git`` files at fetch time. The file
    transport is allowed for this one command only when the source is a local path. If the mirror
    ends up larger than ``max_bytes`` a ``too_large`` GitError is raised; discard the mirror then.
    """
    dest = os.path.abspath(dest)
    if not os.path.isfile(os.path.join(dest, "HEAD")):
        raise GitError("The mirror does not exist.", code="not_a_repository")
    unexpected = sorted({key for key, _ in mirror_config(dest)} - _MIRROR_ALLOWED_KEYS)
    if unexpected:
        raise GitError(f"Unexpected settings in the mirror configuration: {', '.join(unexpected)}.")
    if source is None:
        source, remote = _mirror_source(dest), ["origin"]
    else:
        source = validate_source(source.value, allow_local_paths=source.kind == "path")
        remote = ["--", source.value, "+refs/*:refs/*"]
    cmd = [
        *git_command(git_dir=dest),
        *_transport_config(source),
        "fetch",
        "--prune",
        "--quiet",
        "--no-recurse-submodules",
        "--no-write-fetch-head",
        *remote,
    ]
    try:
        _run_capped(
            cmd,
            env=git_env(_auth_env(source, auth_header)),
            watch_dir=dest,
            timeout_s=timeout_s,
            max_bytes=max_bytes,
            progress=progress,
            what="Fetch",
            secrets=(auth_header,),
        )
    except GitError:
        # A killed fetch can leave temporary packs behind.
        pack_dir = os.path.join(dest, "objects", "pack")
        if os.path.isdir(pack_dir):
            for name in os.listdir(pack_dir):
                if name.startswith("tmp_") or name.startswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(pack_dir, name))
        raise


# --------------------------------------------------------------------------------------------
# Running git on a mirror
# --------------------------------------------------------------------------------------------


def run_git(
    git_dir: str | None,
    *args: str,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    input: bytes | None = None,
) -> bytes:
    """Run a git command on our mirror and return stdout; raise GitError on failure or timeout.

    Put ``--end-of-options`` before revisions and ``--`` before paths that come from the
    repository or the user.
    """
    cmd = git_command(*args, git_dir=git_dir)
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=git_env(),
        cwd=git_home(),
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(input=input, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise GitError(
            f"git {args[0] if args else ''} timed out after {timeout_s:g} s.", code="timeout"
        ) from None
    except BaseException:
        _kill(proc)
        raise
    if proc.returncode != 0:
        tail = _clean_tail(err.decode("utf-8", errors="replace"))
        raise GitError(f"git {args[0] if args else ''} failed: {tail or f'exit status {proc.returncode}'}.")
    return out


class GitStream(subprocess.Popen):
    """A running git process whose stdout is a pipe (see :func:`stream_git`)."""

    _stderr_file: IO[bytes]
    _timer: threading.Timer | None = None
    timed_out: bool = False

    def check(self) -> None:
        """Wait for git; raise GitError if it failed or timed out. Call after reading stdout."""
        self.wait()
        if self._timer is not None:
            self._timer.cancel()
        try:
            if self.timed_out:
                raise GitError("git timed out.", code="timeout")
            if self.returncode != 0:
                tail = _tail(self._stderr_file)
                raise GitError(f"git failed: {tail or f'exit status {self.returncode}'}.")
        finally:
            self._stderr_file.close()

    def kill_all(self) -> None:
        """Kill git and its children (e.g. when the reader stops early)."""
        if self.returncode is None:
            _kill(self)

    def __exit__(self, exc_type, exc, tb):
        if self._timer is not None:
            self._timer.cancel()
        if exc_type is not None:
            self.kill_all()
        result = super().__exit__(exc_type, exc, tb)
        with contextlib.suppress(Exception):
            self._stderr_file.close()
        return result


def stream_git(git_dir: str, *args: str, timeout_s: float | None = None) -> GitStream:
    """Start git on the mirror with stdout as a pipe, for large outputs such as ``git log``.

    The caller MUST read ``proc.stdout`` to EOF and then call ``proc.check()`` (which waits and
    raises GitError on failure), or ``proc.kill_all()`` to stop early. Using it as a context
    manager (``with stream_git(...) as proc:``) waits and kills on error. stderr goes to a
    temporary file, so a chatty git cannot deadlock. With ``timeout_s`` the process group is
    killed when the time is up (``check`` then raises a ``timeout`` GitError).
    """
    stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 - owned by the returned GitStream
    try:
        proc = GitStream(
            git_command(*args, git_dir=git_dir),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            env=git_env(),
            cwd=git_home(),
            start_new_session=True,
        )
    except BaseException:
        stderr_file.close()
        raise
    proc._stderr_file = stderr_file
    if timeout_s is not None:

        def expire() -> None:
            if proc.poll() is None:
                proc.timed_out = True
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)

        proc._timer = threading.Timer(timeout_s, expire)
        proc._timer.daemon = True
        proc._timer.start()
    return proc


def is_shallow(git_dir: str) -> bool:
    """True if the mirror has only part of the history (its source was a shallow clone)."""
    return run_git(git_dir, "rev-parse", "--is-shallow-repository").strip() == b"true"


def list_refs(git_dir: str) -> dict[str, str]:
    """``{full ref name: object id}`` for every ref in the mirror (tags are not peeled)."""
    out = run_git(git_dir, "for-each-ref", "--format=%(objectname) %(refname)")
    refs = {}
    for line in out.decode("utf-8", errors="replace").splitlines():
        sha, _, name = line.partition(" ")
        if name:
            refs[name] = sha
    return refs


def default_branch(git_dir: str) -> str | None:
    """The FULL ref name HEAD points to (e.g. ``refs/heads/main``), or None if it is unresolved.

    A full name is returned on purpose: branch names come from the attacker (``--output=x`` is a
    valid one) and a short name can be ambiguous with a tag; pass it after ``--end-of-options``.
    """
    try:
        ref = run_git(git_dir, "symbolic-ref", "--quiet", "HEAD").decode("utf-8", errors="replace").strip()
    except GitError:
        return None
    if not ref.startswith("refs/") or ref not in list_refs(git_dir):
        return None
    return ref


def rev_count(
    git_dir: str, rev: str | Iterable[str], *, exclude: Iterable[str] = (), no_merges: bool = False
) -> int:
    """Number of commits reachable from ``rev`` (one or several) but not from ``exclude``.

    Revisions are passed after ``--end-of-options``, so a ref named ``--output=x`` is a ref.
    """
    revs = [rev] if isinstance(rev, str) else list(rev)
    excluded = [f"^{r}" for r in exclude]
    if not revs:
        return 0
    flags = ["--no-merges"] if no_merges else []
    out = run_git(git_dir, "rev-list", "--count", *flags, "--end-of-options", *revs, *excluded, "--")
    return int(out.strip() or 0)


_SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


def has_commit(git_dir: str, sha: str) -> bool:
    """True if the full hexadecimal ``sha`` names a commit in the mirror."""
    if not isinstance(sha, str) or not _SHA_RE.match(sha):
        return False
    try:
        run_git(git_dir, "cat-file", "-e", f"{sha}^{{commit}}")
    except GitError:
        return False
    return True


def finish_stream(proc: GitStream) -> None:
    """Same as ``proc.check()``: wait for a stream whose stdout was read to EOF, raise on failure."""
    proc.check()

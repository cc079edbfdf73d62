"""Build small git repositories with exactly the history a test needs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ENV = {
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_COMMITTER_NAME": "Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.test",
}


class GitRepo:
    def __init__(self, path: Path, branch: str = "main"):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)

    def git(self, *args: str, env: dict | None = None) -> str:
        result = subprocess.run(
            ["git", *args], cwd=self.path, env={**os.environ, **ENV, **(env or {})},
            check=True, capture_output=True,
        )  # fmt: skip
        return result.stdout.decode("utf-8", "replace").strip()

    def commit(
        self,
        author: str,
        email: str,
        date: str,
        files: dict[str, str | bytes | None] | None = None,
        message: str = "change",
    ) -> str:
        """Write (or delete, with None) files and commit them as ``author`` on ``date``."""
        for name, content in (files or {f"file-{date}.txt": f"{message}\n"}).items():
            target = self.path / name
            if content is None:
                self.git("rm", "-q", "--", name)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
            self.git("add", "--", name)
        stamp = f"{date}T12:00:00+00:00" if "T" not in date else date
        self.git(
            "commit", "-q", "--allow-empty", "-m", message,
            env={"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": stamp,
                 "GIT_COMMITTER_DATE": stamp},
        )  # fmt: skip
        return self.git("rev-parse", "HEAD")


def generate_history(path: Path, commits: int, *, branch: str = "main") -> None:
    """A bare repository of `commits` commits by a dozen authors, written fast with fast-import."""
    subprocess.run(
        ["git", "init", "-q", "--bare", "-b", branch, str(path)], check=True, env={**os.environ, **ENV}
    )
    chunks = []
    for n in range(commits):
        name, email = f"Dev {n % 12}", f"dev{n % 12}@{'alpha' if n % 3 else 'beta'}.test"
        when = 1_600_000_000 + n * 3600
        message = f"commit {n}\n"
        chunks.append(
            f"commit refs/heads/{branch}\nauthor {name} <{email}> {when} +0000\n"
            f"committer {name} <{email}> {when} +0000\ndata {len(message)}\n{message}".encode()
        )
        for f in range(1 + n % 4):
            content = f"line {n}\n".encode() * (1 + (n + f) % 7)
            chunks.append(
                f"M 100644 inline src/mod{(n + f) % 50}/file{f}.py\ndata {len(content)}\n".encode() + content
            )
        chunks.append(b"\n")
    subprocess.run(
        ["git", "--git-dir", str(path), "fast-import", "--quiet"], input=b"".join(chunks), check=True,
        env={**os.environ, **ENV},
    )  # fmt: skip

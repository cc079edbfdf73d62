"""Evidence tables: git (git.py)."""

from partnerscope.evidence.models.git import (  # noqa: F401
    DEFAULT_BOT_PATTERNS,
    DEFAULT_EXCLUDE_GLOBS,
    Commit,
    Contribution,
    EvidenceModel,
    FileChange,
    LineOwnership,
    Repository,
    RunBase,
    SurvivingLines,
    SyncRun,
)

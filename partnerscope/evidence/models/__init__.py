"""Evidence tables: git (git.py) and the trackers and deployment systems (tracker.py)."""

from partnerscope.evidence.models.git import (  # noqa: F401
    DEFAULT_BOT_PATTERNS,
    DEFAULT_EXCLUDE_GLOBS,
    BugFix,
    BugIntroduction,
    Commit,
    Contribution,
    CoverageReport,
    EvidenceModel,
    FileChange,
    LineOwnership,
    Repository,
    RunBase,
    SurvivingLines,
    SyncRun,
)
from partnerscope.evidence.models.tracker import (  # noqa: F401
    Attributed,
    Connection,
    ConnectorRun,
    Deployment,
    DeploymentCommit,
    Incident,
    PullRequest,
    PullRequestCommit,
    Review,
    Sprint,
    WorkItem,
    WorkItemEvent,
    WorkItemSprint,
)

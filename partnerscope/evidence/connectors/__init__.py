"""Connectors to trackers and deployment systems (GitHub, GitLab, Jira), one package each.

Every connector has the same parts: ``client.py`` (requests, pagination, rate limits, through
http.py), ``mapping.py`` (a payload to evidence rows, pure functions), ``sync.py`` (what to
fetch since the cursor). store.py writes rows idempotently; runner.py runs a sync with
progress, moves the cursor last and attributes what was read.
"""

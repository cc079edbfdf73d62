"""The GraphQL queries: one request brings a page of merge requests with their commits, notes
(approvals, comments, "ready" markers) and labels, or a page of issues with their notes.

Only fields of GitLab's schema (app/graphql/types/merge_request_type.rb, issue_type.rb): there is
no ``squashCommitSha`` in GraphQL, so the sync reads it over REST for fast-forward merges. MR
commits come newest first, so a merge request with more than 100 commits or notes is completed
by MergeRequestCommits / MergeRequestNotes (rare: most fit in the first request).
"""

COMMIT_FIELDS = "sha authoredDate authorEmail author { username }"
NOTE_FIELDS = "id body system createdAt author { username bot }"

MERGE_REQUESTS = f"""
query MergeRequests($fullPath: ID!, $updatedAfter: Time, $after: String, $pageSize: Int!) {{
  project(fullPath: $fullPath) {{
    mergeRequests(first: $pageSize, after: $after, sort: UPDATED_ASC, updatedAfter: $updatedAfter) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        iid title state draft createdAt updatedAt mergedAt closedAt webUrl
        mergeCommitSha commitCount
        diffStatsSummary {{ additions deletions fileCount }}
        author {{ username bot }}
        labels(first: 20) {{ nodes {{ title }} }}
        commits(first: 100) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {COMMIT_FIELDS} }} }}
        notes(first: 100) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {NOTE_FIELDS} }} }}
      }}
    }}
  }}
}}
"""

MERGE_REQUEST_COMMITS = f"""
query MergeRequestCommits($fullPath: ID!, $iid: String!, $after: String) {{
  project(fullPath: $fullPath) {{
    mergeRequest(iid: $iid) {{
      commits(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {COMMIT_FIELDS} }} }}
    }}
  }}
}}
"""

MERGE_REQUEST_NOTES = f"""
query MergeRequestNotes($fullPath: ID!, $iid: String!, $after: String) {{
  project(fullPath: $fullPath) {{
    mergeRequest(iid: $iid) {{
      notes(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {NOTE_FIELDS} }} }}
    }}
  }}
}}
"""

# Notes bring assignments (system notes on every version) and closes/reopens (system notes before
# GitLab 13.x, resource state events since, which GraphQL does not list: mapping.py then dates the
# close from closedAt). The first 100 notes cover nearly every issue; later events are not read.
ISSUES = """
query Issues($fullPath: ID!, $updatedAfter: Time, $after: String, $pageSize: Int!) {
  project(fullPath: $fullPath) {
    issues(first: $pageSize, after: $after, sort: UPDATED_ASC, updatedAfter: $updatedAfter) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id iid title webUrl state type createdAt updatedAt closedAt moved
        author { username bot }
        assignees(first: 5) { nodes { username } }
        labels(first: 20) { nodes { title } }
        milestone { id title startDate dueDate state }
        closedAsDuplicateOf { iid }
        notes(first: 100) { nodes { id body system createdAt author { username } } }
      }
    }
  }
}
"""

"""The GraphQL queries: one request brings a page of pull requests with their commits, reviews,
comments and labels (instead of three requests per pull request), or a page of issues with
their timeline, or of deployments with their statuses."""

PULL_REQUESTS = """
query PullRequests($owner: String!, $name: String!, $cursor: String, $pageSize: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequests(first: $pageSize, after: $cursor, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number title state isDraft createdAt updatedAt mergedAt closedAt url
        additions deletions changedFiles
        author { __typename login }
        labels(first: 20) { nodes { name } }
        mergeCommit { oid }
        commits(first: 100) { totalCount nodes { commit {
          oid authoredDate author { email user { login } } } } }
        reviews(first: 50) { totalCount pageInfo { hasNextPage endCursor }
          nodes { databaseId author { __typename login } state submittedAt comments { totalCount } } }
        comments(first: 20) { nodes { databaseId author { __typename login } createdAt } }
        timelineItems(first: 5, itemTypes: [READY_FOR_REVIEW_EVENT]) {
          nodes { ... on ReadyForReviewEvent { createdAt } } }
      }
    }
  }
  rateLimit { cost remaining resetAt }
}
"""

MORE_REVIEWS = """
query PullRequestReviews($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviews(first: 100, after: $cursor) { pageInfo { hasNextPage endCursor }
        nodes { databaseId author { __typename login } state submittedAt comments { totalCount } } }
    }
  }
  rateLimit { cost remaining resetAt }
}
"""

ISSUES = """
query Issues($owner: String!, $name: String!, $cursor: String, $since: DateTime, $pageSize: Int!) {
  repository(owner: $owner, name: $name) {
    issues(first: $pageSize, after: $cursor, orderBy: {field: UPDATED_AT, direction: ASC},
           filterBy: {since: $since}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number databaseId title url state stateReason createdAt updatedAt closedAt
        author { __typename login }
        assignees(first: 5) { nodes { login } }
        labels(first: 20) { nodes { name } }
        milestone { title }
        timelineItems(first: 50, itemTypes: [CLOSED_EVENT, REOPENED_EVENT, ASSIGNED_EVENT,
                                             UNASSIGNED_EVENT, LABELED_EVENT, UNLABELED_EVENT]) {
          nodes {
            __typename
            ... on ClosedEvent { id createdAt actor { __typename login }
              closer { __typename ... on PullRequest { number } ... on Commit { oid } } }
            ... on ReopenedEvent { id createdAt actor { __typename login } }
            ... on AssignedEvent { id createdAt actor { __typename login } assignee { ... on User { login } } }
            ... on UnassignedEvent { id createdAt actor { __typename login } assignee { ... on User { login } } }
            ... on LabeledEvent { id createdAt actor { __typename login } label { name } }
            ... on UnlabeledEvent { id createdAt actor { __typename login } label { name } }
          }
        }
      }
    }
  }
  rateLimit { cost remaining resetAt }
}
"""

DEPLOYMENTS = """
query Deployments($owner: String!, $name: String!, $cursor: String, $pageSize: Int!) {
  repository(owner: $owner, name: $name) {
    deployments(first: $pageSize, after: $cursor, orderBy: {field: CREATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId environment createdAt updatedAt commitOid
        ref { name }
        creator { __typename login }
        latestStatus { state createdAt logUrl }
      }
    }
  }
  rateLimit { cost remaining resetAt }
}
"""

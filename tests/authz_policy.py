"""The declarative access policy the authorization matrix checks the product against.

Kept apart from the code on purpose: if a view's decorator or a queryset drifts from this
table, the matrix fails. Each web URL name says which permission it needs and which object its
URL names; the expected answer for each persona follows from the role table below.
"""

# What each persona may do, written out independently of partnerscope.orgs.roles.
ROLE_PERMS = {
    "owner": {"view", "view_internal", "edit", "admin"},
    "manager": {"view", "view_internal", "edit"},
    "viewer": {"view", "view_internal"},
    "vendor_a": {"view"},
    "vendor_b": {"view"},
}

# url name -> (required permission, object the URL points at, methods to try)
# Objects: None (no object), "vendor", "vendor_child", "skill", "engagement", "person",
# "identity", "assignment", "membership", "invitation", "token".
# The "own" object always belongs to vendor A; vendor B must get 404 for it.
ORG_URLS = {
    "dashboard": ("view", None, ["GET"]),
    "vendor_list": ("view", None, ["GET"]),
    "vendor_create": ("edit", None, ["GET", "POST"]),
    "vendor_detail": ("view", "vendor", ["GET"]),
    "vendor_edit": ("edit", "vendor", ["GET", "POST"]),
    "vendor_delete": ("edit", "vendor", ["GET", "POST"]),
    "vendor_history": ("view_internal", "vendor", ["GET"]),
    "vendor_child_create": ("edit", "vendor_kind", ["GET", "POST"]),
    "vendor_child_edit": ("edit", "vendor_child", ["GET", "POST"]),
    "vendor_child_delete": ("edit", "vendor_child", ["GET", "POST"]),
    "skill_list": ("view_internal", None, ["GET"]),
    "skill_create": ("edit", None, ["GET", "POST"]),
    "skill_edit": ("edit", "skill", ["GET", "POST"]),
    "engagement_list": ("view", None, ["GET"]),
    "engagement_create": ("edit", None, ["GET", "POST"]),
    "engagement_detail": ("view", "engagement", ["GET"]),
    "engagement_edit": ("edit", "engagement", ["GET", "POST"]),
    "engagement_delete": ("edit", "engagement", ["GET", "POST"]),
    "engagement_history": ("view_internal", "engagement", ["GET"]),
    "engagement_assign": ("edit", "engagement", ["GET", "POST"]),
    "person_list": ("view", None, ["GET"]),
    "person_create": ("edit", None, ["GET", "POST"]),
    "person_detail": ("view", "person", ["GET"]),
    "person_edit": ("edit", "person", ["GET", "POST"]),
    "person_delete": ("edit", "person", ["GET", "POST"]),
    "person_history": ("view_internal", "person", ["GET"]),
    "identity_create": ("edit", "person", ["GET", "POST"]),
    "identity_delete": ("edit", "identity", ["GET", "POST"]),
    "assignment_create": ("edit", "person", ["GET", "POST"]),
    "assignment_edit": ("edit", "assignment", ["GET", "POST"]),
    "assignment_delete": ("edit", "assignment", ["GET", "POST"]),
    "member_list": ("admin", None, ["GET"]),
    "member_invite": ("admin", None, ["GET", "POST"]),
    "member_edit": ("admin", "membership", ["GET", "POST"]),
    "member_remove": ("admin", "membership", ["GET", "POST"]),
    "invitation_revoke": ("admin", "invitation", ["GET", "POST"]),
    "token_list": ("view", None, ["GET"]),
    "token_create": ("view", None, ["GET", "POST"]),
    # Tokens are personal: only their holder and owners may revoke them (see TOKEN_REVOKE).
    "token_revoke": ("view", "token", ["GET", "POST"]),
    "audit_log": ("view_internal", None, ["GET"]),
    "evidence_overview": ("view", None, ["GET"]),
    "unattributed": ("view_internal", None, ["GET"]),
    "map_username": ("edit", None, ["POST"]),
    "map_identity": ("edit", None, ["POST"]),
    "repository_list": ("view", None, ["GET"]),
    "repository_create": ("edit", None, ["GET", "POST"]),
    "repository_detail": ("view", "repository", ["GET"]),
    "repository_edit": ("edit", "repository", ["GET", "POST"]),
    "repository_delete": ("edit", "repository", ["GET", "POST"]),
    "repository_history": ("view_internal", "repository", ["GET"]),
    "repository_sync": ("edit", "repository", ["POST"]),
    "sync_progress": ("view", "syncrun", ["GET"]),
    "sync_cancel": ("edit", "syncrun", ["POST"]),
    "connection_list": ("view", None, ["GET"]),
    "connection_create": ("edit", None, ["GET", "POST"]),
    "connection_detail": ("view", "connection", ["GET"]),
    "connection_edit": ("edit", "connection", ["GET", "POST"]),
    "connection_delete": ("edit", "connection", ["GET", "POST"]),
    "connection_sync": ("edit", "connection", ["POST"]),
    "connection_import": ("edit", "connection", ["GET", "POST"]),
    "connector_run_progress": ("view", "connectorrun", ["GET"]),
    "connector_run_cancel": ("edit", "connectorrun", ["POST"]),
    "pull_request_list": ("view", None, ["GET"]),
    "work_item_list": ("view", None, ["GET"]),
    "deployment_list": ("view", None, ["GET"]),
    "incident_list": ("view", None, ["GET"]),
    "standings": ("view", None, ["GET"]),
    "scorecard": ("view", "vendor", ["GET"]),
    "scorecard_export": ("view", "vendor_export", ["GET"]),
    "metric_value": ("view", "metricvalue", ["GET"]),
    "dispute_open": ("view", "metricvalue", ["POST"]),
    "dispute_list": ("view", None, ["GET"]),
    "dispute_resolve": ("edit", "dispute", ["GET", "POST"]),
    "compare": ("view_internal", None, ["GET"]),
    "kpi_list": ("view", None, ["GET"]),
    "kpi_create": ("edit", None, ["GET", "POST"]),
    "template_list": ("view_internal", None, ["GET"]),
    "template_create": ("edit", None, ["GET", "POST"]),
    "template_edit": ("edit", "template", ["GET", "POST"]),
    "alert_list": ("view_internal", None, ["GET"]),
    "webhook_create": ("edit", None, ["GET", "POST"]),
    "webhook_delete": ("edit", "webhook", ["POST"]),
    "metrics_recompute": ("edit", None, ["POST"]),
    "metrics_run_progress": ("view_internal", "metricsrun", ["GET"]),
}

# The token of the viewer: its holder and the owner reach it, nobody else does.
TOKEN_REVOKE = {"owner": True, "viewer": True, "manager": False, "vendor_a": False, "vendor_b": False}

# URLs outside an organization: url name -> (kwargs, {persona: expected status for GET}).
PUBLIC_URLS = {
    "home": ({}, {"anonymous": 302, "outsider": 302, "owner": 302, "deactivated": 302}),
    "login": ({}, {"anonymous": 200, "owner": 302}),
    "logout": ({}, {"anonymous": 405, "owner": 405}),  # sign-out is POST only
    "password_change": ({}, {"anonymous": 302, "owner": 200}),
    "invitation_accept": ({"secret": "no-such-invitation"}, {"anonymous": 404, "owner": 404}),
    "healthz": ({}, {"anonymous": 200}),
}

# Listing pages and how to read the vendor of each row from the view's context.
LIST_VENDOR_IDS = {
    "vendor_list": lambda ctx: {v.id for v in ctx["table"].rows},
    "engagement_list": lambda ctx: {e.vendor_id for e in ctx["table"].rows},
    "repository_list": lambda ctx: {r.engagement.vendor_id for r in ctx["table"].rows},
    "connection_list": lambda ctx: {c.engagement.vendor_id for c in ctx["table"].rows},
    "pull_request_list": lambda ctx: {p.vendor_id for p in ctx["table"].rows},
    "standings": lambda ctx: {vendor.id for vendor, _ in ctx["rows"]},
}

# API operations: operationId -> the object its path names ("own" objects belong to vendor A).
# GET needs "view"; POST, PATCH and DELETE need "edit" (and a write-scope token).
API_OPERATIONS = {
    "me": None,
    "list_vendors": None,
    "create_vendor": None,
    "get_vendor": "vendor",
    "update_vendor": "vendor",
    "delete_vendor": "vendor",
    **{
        f"{verb}_vendor_{kind.replace('-', '_')}": (
            "vendor" if verb in ("list", "create") else f"vendor_{kind}"
        )
        for kind in ("skills", "locations", "domains", "certifications", "case-studies", "contacts", "rates")
        for verb in ("list", "create", "update", "delete")
    },
    "list_skills": None,
    "create_skill": None,
    "list_engagements": None,
    "create_engagement": None,
    "get_engagement": "engagement",
    "update_engagement": "engagement",
    "delete_engagement": "engagement",
    "list_people": None,
    "create_person": None,
    "get_person": "person",
    "update_person": "person",
    "delete_person": "person",
    "list_identities": "person",
    "create_identity": "person",
    "delete_identity": "identity",
    "list_person_assignments": "person",
    "create_assignment": "person",
    "update_assignment": "assignment",
    "delete_assignment": "assignment",
    "list_assignments": None,
    "list_repositories": None,
    "create_repository": None,
    "get_repository": "repository",
    "update_repository": "repository",
    "delete_repository": "repository",
    "start_repository_sync": "repository",
    "get_sync": "syncrun",
    "cancel_sync": "syncrun",
    "evidence_summary": None,
    "list_unattributed": None,
    "map_unattributed_identity": None,
    "list_connections": None,
    "create_connection": None,
    "get_connection": "connection",
    "update_connection": "connection",
    "delete_connection": "connection",
    "start_connection_sync": "connection",
    "get_connector_sync": "connectorrun",
    "import_connection_export": "connection",
    "list_pull_requests": None,
    "list_work_items": None,
    "list_deployments": None,
    "list_incidents": None,
    "list_scores": None,
    "get_scorecard": "vendor",
    "list_metric_values": None,
    "get_metric_value": "metricvalue",
    "list_kpis": None,
    "list_disputes": None,
    "resolve_dispute": "dispute",
    "start_metrics_recompute": None,
}

# API operations that need "view_internal" rather than "view" (client-only, like their pages).
API_VIEW_INTERNAL = {"list_unattributed"}

# Token holders: persona -> scope of its token.
API_TOKEN_SCOPES = {
    "owner": "write",
    "manager": "write",
    "manager_read": "read",
    "viewer": "read",
    "vendor_a": "read",
    "vendor_b": "read",
}

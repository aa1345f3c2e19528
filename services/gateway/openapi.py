"""The published OpenAPI document, with links from each operation that creates a resource to the
operations that take its id.

Clients read the links as documentation of the resource chains; schemathesis follows them in its
stateful phase (create a relationship, then log in it; make a bid, then answer it; ...).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

BASE = "/v1/relationships/{rid}"
NEW_ID = "$response.body#/id"
SAME_RID = "$request.path.rid"

Operation = tuple[str, str]  # method, path
# (source operation, its status) -> link name -> (target operation, target parameters)
LINKS: dict[tuple[Operation, str], dict[str, tuple[Operation, dict[str, str]]]] = {
    (("POST", "/v1/relationships"), "201"): {
        name: (target, {"rid": NEW_ID})
        for name, target in {
            "GetRelationship": ("GET", BASE),
            "Invite": ("POST", f"{BASE}/invites"),
            "LogCheckin": ("POST", f"{BASE}/checkins"),
            "MakeBid": ("POST", f"{BASE}/bids"),
            "LogTouch": ("POST", f"{BASE}/touches"),
            "LogTime": ("POST", f"{BASE}/time-logs"),
            "ProposeBoundary": ("POST", f"{BASE}/boundaries"),
            "LogConflict": ("POST", f"{BASE}/conflicts"),
            "CompleteAssessment": ("POST", f"{BASE}/assessments"),
            "CreateRitual": ("POST", f"{BASE}/rituals"),
            "Timeline": ("GET", f"{BASE}/timeline"),
            "Schedule": ("GET", f"{BASE}/schedule"),
            "ProposeDate": ("POST", f"{BASE}/dates"),
            "Program": ("GET", f"{BASE}/program"),
            "Reviews": ("GET", f"{BASE}/reviews"),
            "Insights": ("GET", f"{BASE}/insights"),
            "Subscribe": ("POST", f"{BASE}/webhooks"),
            "Leave": ("DELETE", f"{BASE}/members/me"),
        }.items()
    },
    (("POST", f"{BASE}/invites"), "201"): {
        "AcceptInvite": (("POST", "/v1/invites/{code}/accept"), {"code": "$response.body#/code"}),
    },
    (("POST", "/v1/invites/{code}/accept"), "200"): {
        "GetRelationship": (("GET", BASE), {"rid": NEW_ID}),
    },
    (("POST", f"{BASE}/bids"), "201"): {
        "AnswerBid": (
            ("POST", f"{BASE}/bids/{{bid_id}}/answer"),
            {"rid": SAME_RID, "bid_id": NEW_ID},
        ),
    },
    (("POST", f"{BASE}/dates"), "201"): {
        name: (target, {"rid": SAME_RID, "date_id": NEW_ID})
        for name, target in {
            "AcceptDate": ("POST", f"{BASE}/dates/{{date_id}}/accept"),
            "DeclineDate": ("POST", f"{BASE}/dates/{{date_id}}/decline"),
        }.items()
    },
    (("POST", f"{BASE}/boundaries"), "201"): {
        name: (target, {"rid": SAME_RID, "boundary_id": NEW_ID})
        for name, target in {
            "AcceptBoundary": ("POST", f"{BASE}/boundaries/{{boundary_id}}/accept"),
            "ReportBreach": ("POST", f"{BASE}/boundaries/{{boundary_id}}/breaches"),
            "RetireBoundary": ("DELETE", f"{BASE}/boundaries/{{boundary_id}}"),
        }.items()
    },
    (("POST", f"{BASE}/boundaries/{{boundary_id}}/accept"), "200"): {
        name: (target, {"rid": SAME_RID, "boundary_id": "$request.path.boundary_id"})
        for name, target in {
            "ReportBreach": ("POST", f"{BASE}/boundaries/{{boundary_id}}/breaches"),
            "RetireBoundary": ("DELETE", f"{BASE}/boundaries/{{boundary_id}}"),
        }.items()
    },
    (("POST", f"{BASE}/conflicts"), "201"): {
        name: (target, {"rid": SAME_RID, "conflict_id": NEW_ID})
        for name, target in {
            "LogRepair": ("POST", f"{BASE}/conflicts/{{conflict_id}}/repair"),
            "AddPerspective": ("POST", f"{BASE}/conflicts/{{conflict_id}}/perspective"),
        }.items()
    },
    (("GET", f"{BASE}/insights"), "200"): {
        "RespondToFlag": (
            ("POST", f"{BASE}/insights/flags/{{code}}/response"),
            {"rid": SAME_RID, "code": "$response.body#/flags/0/code"},
        ),
        **{
            name: (target, {"rid": SAME_RID, "rec_id": "$response.body#/recommendations/0/id"})
            for name, target in {
                "DismissRecommendation": (
                    "POST",
                    f"{BASE}/insights/recommendations/{{rec_id}}/dismiss",
                ),
                "RecommendationDone": ("POST", f"{BASE}/insights/recommendations/{{rec_id}}/done"),
            }.items()
        },
    },
    (("POST", f"{BASE}/rituals"), "201"): {
        "RecordOutcome": (
            ("POST", f"{BASE}/rituals/{{ritual_id}}/outcomes"),
            {"rid": SAME_RID, "ritual_id": NEW_ID},
        ),
    },
    (("POST", f"{BASE}/webhooks"), "201"): {
        name: (target, {"rid": SAME_RID, "webhook_id": NEW_ID})
        for name, target in {
            "Deliveries": ("GET", f"{BASE}/webhooks/{{webhook_id}}/deliveries"),
            "Unsubscribe": ("DELETE", f"{BASE}/webhooks/{{webhook_id}}"),
        }.items()
    },
    (("GET", f"{BASE}/webhooks/{{webhook_id}}/deliveries"), "200"): {
        "RetryNewest": (
            ("POST", f"{BASE}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/retry"),
            {
                "rid": SAME_RID,
                "webhook_id": "$request.path.webhook_id",
                "delivery_id": "$response.body#/0/id",
            },
        ),
    },
    (("DELETE", "/v1/me"), "202"): {
        "ErasureStatus": (
            ("GET", "/v1/erasures/{erasure_id}"),
            {"erasure_id": "$response.body#/erasure_id"},
        ),
    },
}


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """Write LINKS into an OpenAPI document (a KeyError names an operation that is gone)."""
    paths = document["paths"]
    for ((method, path), status), links in LINKS.items():
        response = paths[path][method.lower()]["responses"][status]
        for name, ((target_method, target_path), parameters) in links.items():
            target = paths[target_path][target_method.lower()]
            response.setdefault("links", {})[name] = {
                "operationId": target["operationId"],
                "parameters": parameters,
                "description": target.get("summary", ""),
            }
    return document


OPERATOR_SCHEME = "OperatorToken"
MEMBER_SCHEME = "HTTPBearer"
# Routes anyone may call: signing up and in, health, the contracts, an erasure's progress (its
# id is 128-bit random and the answer names only services).
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/asyncapi.json"),
    ("POST", "/v1/auth/signup"),
    ("POST", "/v1/auth/token"),
    ("GET", "/v1/erasures/{erasure_id}"),
}
TAGS = {
    "accounts": "Sign up, sign in, the caller's profile, export and erasure.",
    "relationships": "Relationships, their members and invites.",
    "facts": "What members log: check-ins, bids, touch, time, boundaries, conflicts, "
    "assessments, rituals. Private by default; a private entry reaches only its author.",
    "views": "What a member sees of a relationship: timeline, schedule, insights, live stream.",
    "insights": "Flags, health, strengths and recommendations, and the member's answers to them.",
    "rhythms": "Digital dates, monthly reviews and the trust-rebuilding program.",
    "programs": "The trust-rebuilding program.",
    "webhooks": "Signed deliveries of shared events to the members' integrations.",
    "operations": "Health, metrics, the published contracts and the operators' dashboard.",
}
PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _is_operator(path: str) -> bool:
    # /metrics too: its per-route figures would show when members write.
    return path in ("/ops", "/metrics") or path.startswith("/ops/")


def _describe(method: str, path: str, operation: dict[str, Any]) -> str:
    """A description from what the route is and who may call it, for routes without one."""
    summary = operation.get("summary") or operation["operationId"].replace("_", " ")
    parts = [summary.rstrip(".") + "."]
    if _is_operator(path):
        parts.append("Needs the operator token; shows counts and rates, never member content.")
    elif (method, path) not in PUBLIC:
        parts.append(
            "Needs a member's token; only members of the relationship it names may call it."
        )
    if method == "POST":
        parts.append("Accepts `Idempotency-Key`: a repeat returns the first answer.")
    return " ".join(parts)


def polish(document: dict[str, Any]) -> dict[str, Any]:
    """What FastAPI leaves out of the document: servers, licence, who may call each operation,
    declared tags, a 4xx answer and a description on every operation."""
    info = document["info"]
    info.setdefault(
        "license",
        {"name": "AGPL-3.0-or-later", "url": "https://www.gnu.org/licenses/agpl-3.0.html"},
    )
    info.setdefault("contact", {"name": "Attune", "url": "https://github.com/attune-app/attune"})
    document.setdefault("servers", [{"url": "/", "description": "This gateway"}])
    components = document.setdefault("components", {})
    schemes = components.setdefault("securitySchemes", {})
    schemes[OPERATOR_SCHEME] = {
        "type": "http",
        "scheme": "bearer",
        "description": "The operator token (ATTUNE_OPS_TOKEN); the dashboard also takes ?token=.",
    }
    used_tags: set[str] = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            verb = method.upper()
            if _is_operator(path):
                operation["security"] = [{OPERATOR_SCHEME: []}]
            elif (verb, path) in PUBLIC:
                operation["security"] = []
            else:
                operation.setdefault("security", [{MEMBER_SCHEME: []}])
            responses = operation.setdefault("responses", {})
            if not any(code.startswith("4") for code in responses):
                responses["429"] = {
                    "description": "Too many requests from this address; see Retry-After.",
                    "content": {"application/problem+json": {"schema": PROBLEM}},
                }
            operation.setdefault("description", _describe(verb, path, operation))
            used_tags.update(operation.get("tags", []))
    document["tags"] = [
        {"name": tag, "description": TAGS.get(tag, tag.capitalize() + ".")}
        for tag in sorted(used_tags)
    ]
    return document


def install(app: FastAPI) -> None:
    """Serve the document with its links (built once, like FastAPI's own)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = polish(add_links(build()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

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
        "LogRepair": (
            ("POST", f"{BASE}/conflicts/{{conflict_id}}/repair"),
            {"rid": SAME_RID, "conflict_id": NEW_ID},
        ),
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


def install(app: FastAPI) -> None:
    """Serve the document with its links (built once, like FastAPI's own)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_links(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

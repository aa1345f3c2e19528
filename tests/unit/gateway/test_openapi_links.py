"""The published document links each created resource to the operations that take its id."""

from __future__ import annotations

import re

from services.gateway.app import create_app


def links_of(document: dict) -> list[tuple[str, str, str, dict]]:
    return [
        (method, path, name, link)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for response in operation["responses"].values()
        for name, link in response.get("links", {}).items()
    ]


def test_every_link_names_a_real_operation_and_fills_exactly_its_path_parameters():
    document = create_app().openapi()
    by_id = {
        operation["operationId"]: path
        for path, operations in document["paths"].items()
        for operation in operations.values()
    }
    found = links_of(document)
    assert len(found) >= 25
    for _method, source, name, link in found:
        target = by_id[link["operationId"]]
        assert set(link["parameters"]) == set(re.findall(r"\{(\w+)\}", target)), (name, target)
        for expression in link["parameters"].values():
            if expression.startswith("$request.path."):
                assert "{" + expression.removeprefix("$request.path.") + "}" in source, name
            else:
                assert expression.startswith("$response.body#/"), expression


def test_a_new_relationship_leads_to_logging_in_it_and_a_new_bid_to_answering_it():
    document = create_app().openapi()
    created = document["paths"]["/v1/relationships"]["post"]["responses"]["201"]["links"]
    assert created["LogCheckin"]["parameters"] == {"rid": "$response.body#/id"}
    bid = document["paths"]["/v1/relationships/{rid}/bids"]["post"]["responses"]["201"]["links"]
    assert bid["AnswerBid"]["operationId"].startswith("answer_bid")
    assert bid["AnswerBid"]["parameters"] == {
        "rid": "$request.path.rid",
        "bid_id": "$response.body#/id",
    }

"""Scoping filters: which people Entra provisions at all, as the generator applies them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from scim_conformance.scoping import ScopeError, attributes, fit, in_scope, validate


def clause(name: str, operator: str, *values: str) -> dict[str, Any]:
    return {"sourceOperandName": name, "operatorName": operator, "targetOperand": {"values": list(values)}}


def scope(*groups: list[dict[str, Any]], key: str = "groups") -> dict[str, Any]:
    return {key: [{"name": f"g{i}", "clauses": clauses} for i, clauses in enumerate(groups)]}


PERSON = {"department": "Sales", "country": "US", "accountEnabled": True, "extensionAttribute3": None,
          "employeeId": "1500", "jobTitle": "Sales Manager", "otherMails": ["a@x.test", "b@y.test"]}


@pytest.mark.parametrize("clause_, expected", [
    (clause("department", "EQUALS", "Sales"), True),
    (clause("department", "EQUALS", "sales"), False),  # case-sensitive, as Microsoft documents
    (clause("department", "EQUALS", "Finance", "Sales"), True),
    (clause("department", "NOT EQUALS", "Sales"), False),
    (clause("department", "Not_Equals", "Finance"), True),  # another spelling of the operator
    (clause("accountEnabled", "IS TRUE"), True),
    (clause("accountEnabled", "IS FALSE"), False),
    (clause("extensionAttribute3", "IS NULL"), True),
    (clause("extensionAttribute3", "IS NOT NULL"), False),
    (clause("jobTitle", "REGEX MATCH", "^Sales"), True),
    (clause("jobTitle", "NOT REGEX MATCH", "Manager$"), False),
    (clause("employeeId", "GREATER_THAN", "1000"), True),
    (clause("employeeId", "GREATER_THAN_OR_EQUALS", "1500"), True),
    (clause("employeeId", "LESS_THAN", "1500"), False),
    (clause("otherMails", "INCLUDES", "@y.test"), True),
])
def test_each_operator(clause_, expected):
    assert in_scope(scope([clause_]), PERSON) is expected


def test_groups_are_alternatives_clauses_all_hold_and_every_set_must_pass():
    sales, us = clause("department", "EQUALS", "Sales"), clause("country", "EQUALS", "US")
    finance, de = clause("department", "EQUALS", "Finance"), clause("country", "EQUALS", "DE")
    assert in_scope(scope([sales, us]), PERSON)
    assert not in_scope(scope([sales, de]), PERSON)
    assert in_scope(scope([finance], [sales]), PERSON)
    both = scope([sales]) | scope([finance], key="inputFilterGroups")
    assert not in_scope(both, PERSON)
    assert in_scope(None, PERSON) and in_scope({}, PERSON)


def test_a_person_is_fitted_into_the_first_group():
    wanted = scope([clause("department", "EQUALS", "Finance"), clause("extensionAttribute3", "IS NOT NULL"),
                    clause("employeeId", "GREATER_THAN", "2000"), clause("jobTitle", "REGEX MATCH", "^Engineer.*$")])
    fitted = fit(wanted, dict(PERSON), lambda name: f"made-up {name}")
    assert in_scope(wanted, fitted)
    assert (fitted["department"], fitted["extensionAttribute3"], fitted["employeeId"], fitted["jobTitle"]) == (
        "Finance", "made-up extensionAttribute3", "2001", "Engineer")
    assert fitted["country"] == "US"  # nothing else changes


@pytest.mark.parametrize("clause_, message", [
    (clause("department", "SOUNDS LIKE", "Sales"), "groups[0].clauses[0].operatorName: 'SOUNDS LIKE' is not a"),
    (clause("shoeSize", "EQUALS", "9"), "groups[0].clauses[0].sourceOperandName: 'shoeSize' is not a source"),
    (clause("department", "EQUALS"), "groups[0].clauses[0].targetOperand.values: EQUALS needs a value"),
    (clause("employeeId", "GREATER_THAN", "many"), "GREATER THAN compares with a number"),
    (clause("jobTitle", "REGEX MATCH", "(unclosed"), "'(unclosed': missing )"),
])
def test_a_filter_the_suite_cannot_apply_is_refused_with_its_path(clause_, message):
    with pytest.raises(ScopeError, match=re.escape(message)):
        validate(scope([clause_]), set(PERSON))


def test_the_attributes_a_filter_reads():
    assert attributes(scope([clause("department", "EQUALS", "Sales")], [clause("country", "EQUALS", "US"),
                                                                       clause("department", "IS NOT NULL")])) == [
        "department", "country"]


@pytest.mark.parametrize("filter_, message", [
    ({"groups": "department EQUALS Sales"}, "groups: expected a list of filter groups"),
    ({"groups": [{"clauses": {"a": 1}}]}, "groups[0]: expected a filter group with a list of clauses"),
    ({"inputFilterGroups": [{"clauses": ["EQUALS"]}]}, "inputFilterGroups[0].clauses[0]: expected a clause"),
    ({"groups": [{"clauses": [{"operatorName": "EQUALS", "sourceOperandName": "department",
                               "targetOperand": {"values": "Sales"}}]}]}, "targetOperand.values a list"),
])
def test_a_filter_of_another_shape_is_refused(filter_, message):
    with pytest.raises(ScopeError, match=re.escape(message)):
        validate(filter_, set(PERSON))

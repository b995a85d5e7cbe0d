"""The Cobuilder contract's checks of what goes into a request path."""
from __future__ import annotations

import pytest

from reconciler.errors import ProviderError
from reconciler.vendors.cobuilder import contract as cb


def test_a_guid_is_one_encoded_segment_of_the_delete_path() -> None:
    guid = "Ab$_-9876543210abcdefg"
    assert len(guid) == 22
    assert cb.endpoint_path(cb.ENDPOINTS["delete"], 7, guid) == f"/products/7/properties/{guid}/values"
    assert cb.endpoint_path(cb.ENDPOINTS["delete"], 7, "a/b?c#d%e" + "x" * 13) == \
        "/products/7/properties/a%2Fb%3Fc%23d%25exxxxxxxxxxxxx/values"


@pytest.mark.parametrize("guid", ["..", ".", "", "x" * 23, "has space in it 123456"])
def test_what_is_no_guid_never_becomes_a_path(guid: str) -> None:
    with pytest.raises(ProviderError, match="is not a property GUID"):
        cb.endpoint_path(cb.ENDPOINTS["delete"], 7, guid)


@pytest.mark.parametrize("entry, problem", [
    ({"propertyGuid": "..", "parentId": 0}, 'propertyGuid ".." is not a GUID'),
    ({"propertyGuid": 5}, "propertyGuid 5 is not a GUID"),
    ({"propertyGuid": "G" * 22, "parentId": True}, "parentId true of GGGGGGGGGGGGGGGGGGGGGG is neither"),
    ({"propertyGuid": "G" * 22, "parentId": 1.5}, "parentId 1.5 of"),
    (["not", "an", "object"], "an entry is"),
])
def test_entry_problems(entry: object, problem: str) -> None:
    assert problem in (cb.entry_problem(entry) or "")


@pytest.mark.parametrize("parent", [0, "0", " 0", None, 0.0, "", "111111", 111111, 111111.0])
def test_entries_that_are_read(parent: object) -> None:
    assert cb.entry_problem({"propertyGuid": "G" * 22, "parentId": parent}) is None

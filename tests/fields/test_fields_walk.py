"""The shared JSON helpers: as-string rendering and the §3.3 path/multi walks."""

from __future__ import annotations

from eksaudit.fields.jsonwalk import MISSING, as_string, get_path, multi, strings_skip_missing
from eksaudit.timestamps import parse_ts_ns


def test_as_string_renders_json_compactly_in_key_order():
    assert as_string("a&b") == "a&b"
    assert as_string(True) == "true" and as_string(False) == "false"
    assert as_string(None) == "null"
    assert as_string(1000) == "1000"
    assert as_string(-0) == "0"
    assert as_string(12345678901234567890123) == "12345678901234567890123"  # beyond 64 bits, exact
    assert as_string({"z": 1, "a": [True, None, "x"]}) == '{"z":1,"a":[true,null,"x"]}'
    assert as_string({"k": "é&<"}) == '{"k":"é&<"}'
    assert as_string(1.5) == "1.5"


def test_get_path_missing_and_wrong_types():
    doc = {"a": {"b": None, "c": [1]}}
    assert get_path(doc, ("a", "b")) is None  # JSON null is a value
    assert get_path(doc, ("a", "x")) is MISSING
    assert get_path(doc, ("a", "b", "c")) is MISSING  # through a null
    assert get_path(doc, ("a", "c", "0")) is MISSING  # no array indexing by key
    assert get_path("str", ("a",)) is MISSING


def test_multi_fans_out_and_keeps_final_arrays_whole():
    doc = {"cs": [{"sc": {"add": ["A", "B"]}}, {}, {"sc": {"add": ["C"]}}]}
    r = multi(doc, None, ("cs", "sc", "add"))
    assert r == [["A", "B"], MISSING, ["C"]]
    assert strings_skip_missing(r) == ['["A","B"]', '["C"]']


def test_multi_index_selects_in_the_first_array_and_out_of_range_is_missing():
    doc = {"cs": [{"n": "a"}, {"n": "b"}]}
    assert multi(doc, 1, ("cs", "n")) == ["b"]
    assert multi(doc, 2, ("cs", "n")) is MISSING
    # [N] is ignored when no array is met before the last key
    assert multi({"a": {"n": "x"}}, 5, ("a", "n")) == ["x"]


def test_multi_empty_array_and_all_missing_give_no_value():
    assert strings_skip_missing(multi({"cs": []}, None, ("cs", "n"))) is None
    assert strings_skip_missing(multi({"cs": [{}, {}]}, None, ("cs", "n"))) is None
    assert strings_skip_missing(multi({}, None, ("cs", "n"))) is None


def test_multi_empty_key_stays_on_the_element():
    doc = {"rules": [{"verbs": ["get", "list"]}, {"verbs": ["*"]}]}
    assert multi(doc, None, ("rules", "verbs", "")) == ["get", "list", "*"]


def test_timestamps_to_exact_nanoseconds():
    assert parse_ts_ns("1970-01-01T00:00:01Z") == 1_000_000_000
    assert parse_ts_ns("2023-06-19T08:07:21.502238Z") == 1687162041502238000
    assert parse_ts_ns("2023-06-19T10:07:21.502238+02:00") == 1687162041502238000
    assert parse_ts_ns("2023-06-19T08:07:21.1234567891Z") == 1687162041123456789  # beyond ns truncated
    assert parse_ts_ns("2024-11-13 23:50:32.672347000") == 1731541832672347000  # space, no zone = UTC
    assert parse_ts_ns("2023-02-30T00:00:00Z") is None
    assert parse_ts_ns("yesterday") is None

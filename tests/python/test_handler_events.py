"""The orchestration Lambdas read their events through one parser and refuse alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ingestion.events import EventError
from orchestration.handlers import check_landing, notify, publish_model, resolve_run_date
from orchestration.handlers import vacuum as vacuum_handler
from orchestration.handlers.events import Event


def test_the_event_reader_types_every_value_and_names_the_key():
    event = Event.parse(
        {"date": "2024-01-31", "n": 3, "flag": True, "doc": {"a": 1}, "s": "x"},
        allowed={"date", "n", "flag", "doc", "s", "absent"},
    )
    assert event.date("date") == dt.date(2024, 1, 31)
    assert (event.positive_int("n"), event.flag("flag"), event.object("doc")) == (3, True, {"a": 1})
    assert (event.text("s"), event.required_text("s", choices=("x", "y"))) == ("x", "x")
    assert (event.date("absent"), event.positive_int("absent"), event.flag("absent")) == (
        None,
        None,
        False,
    )
    assert (event.object("absent"), event.text("absent")) == ({}, None)
    assert Event.parse(None, allowed=()).values == {}
    bad: list[tuple[dict[str, Any], str, str]] = [
        ({"date": "31/01/2024"}, "date", "'date' must be a YYYY-MM-DD string"),
        ({"date": 20240131}, "date", "'date' must be a YYYY-MM-DD string"),
        ({"n": 0}, "n", "'n' must be an integer >= 1"),
        ({"n": True}, "n", "'n' must be an integer >= 1"),
        ({"n": "3"}, "n", "'n' must be an integer >= 1"),
        ({"flag": "yes"}, "flag", "'flag' must be true or false"),
        ({"doc": []}, "doc", "'doc' must be a JSON object"),
        ({"s": 1}, "s", "'s' must be a string"),
    ]
    readers = {
        "date": Event.date,
        "n": Event.positive_int,
        "flag": Event.flag,
        "doc": Event.object,
        "s": Event.text,
    }
    for values, key, message in bad:
        with pytest.raises(EventError, match=message):
            readers[key](Event.parse(values, allowed=set(values)), key)
    with pytest.raises(EventError, match="the event needs 's'"):
        Event.parse({}, allowed={"s"}).required_text("s")
    with pytest.raises(EventError, match="must be one of"):
        Event.parse({"s": "z"}, allowed={"s"}).required_text("s", choices=("x",))
    with pytest.raises(EventError, match=r"unknown event keys \['typo'\]"):
        Event.parse({"typo": 1}, allowed={"s"})
    with pytest.raises(EventError, match="must be a JSON object, got list"):
        Event.parse([], allowed={"s"})


@pytest.mark.parametrize(
    ("handler", "event", "message"),
    [
        (notify, {"status": "DONE"}, "'status' must be one of"),
        (notify, {"status": "SUCCEEDED", "documnet": {}}, "unknown event keys"),
        (notify, {"status": "FAILED", "document": "x"}, "'document' must be a JSON object"),
        (publish_model, {"version": "v1"}, "the event needs 'model_data'"),
        (publish_model, {"version": 1, "model_data": "s3://b/k"}, "'version' must be a string"),
        (resolve_run_date, {"input": {"data": "2024-01-02"}}, "unknown event keys"),
        (resolve_run_date, {"input": {"date": "Jan 2"}}, "'date' must be a YYYY-MM-DD"),
        (resolve_run_date, {"input": "2024-01-02"}, "'input' must be a JSON object"),
        (resolve_run_date, {"execution_arn": 7}, "'execution_arn' must be a string"),
        (vacuum_handler, {"retention": 3}, "unknown event keys"),
        (vacuum_handler, ["date"], "must be a JSON object"),
        (check_landing, {"dry_run": True}, "unknown event keys"),
    ],
)
def test_every_orchestration_handler_refuses_a_bad_event_before_doing_anything(
    handler, event, message
):
    with pytest.raises(EventError, match=message):
        handler.lambda_handler(event, None)

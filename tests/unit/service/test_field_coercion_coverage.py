"""Every field of a stored record is read tolerantly: a field whose annotation has no reader
(say `Optional[int]` where the readers know `int | None`) would let a damaged value through."""

from __future__ import annotations

import typing
from dataclasses import fields
from enum import Enum

import pytest

from ainimal_zookeeper.service import records
from ainimal_zookeeper.service.field_coercion import _READERS, coerce_fields

RECORDS = [records.Instance, records.Checkpoint, records.Recording, records.Replay]


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record.__name__)
def test_every_field_of_a_stored_record_has_a_reader_or_is_an_enum(record):
    hints = typing.get_type_hints(record)
    unread = [
        f"{f.name}: {f.type}"
        for f in fields(record)
        if f.name != "extra"
        and f.type not in _READERS
        and not (isinstance(hints[f.name], type) and issubclass(hints[f.name], Enum))
    ]
    assert unread == [], f"add a reader to service/field_coercion.py for {unread}"


def test_a_flag_that_may_be_unknown_reads_a_damaged_value_as_unknown():
    damaged, sound = {"git_pushed": "yes", "git_lfs": 1}, {"git_pushed": True, "git_lfs": False}
    coerce_fields(records.Checkpoint, damaged)
    coerce_fields(records.Checkpoint, sound)
    assert (damaged["git_pushed"], damaged["git_lfs"]) == (None, None)
    assert (sound["git_pushed"], sound["git_lfs"]) == (True, False)

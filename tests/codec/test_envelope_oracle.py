"""The CNAPS2 envelope reader gives exactly the results recorded from ``main`` before its
header decode got a fast path: the same header values, and for anything malformed the
same error (message, byte offset, field, hint), on every example text and on a corpus of
mutated headers (see :mod:`tests.codec.envelope_oracle`)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from paymsg.codec.envelope.cnaps2 import Cnaps2Header, read_envelope, split_envelope
from tests.codec.envelope_oracle import KINDS, digest, inputs, recorded, results

FIXTURE = recorded()
INPUTS = dict(inputs())


def test_the_corpus_is_the_recorded_one() -> None:
    assert sorted(INPUTS) == sorted(FIXTURE["inputs"])
    changed = [name for name, data in INPUTS.items() if digest(data) != FIXTURE["inputs"][name][0]]
    assert not changed
    # both well-formed headers and every kind of refusal are in it
    errors = {r["message"].split(":")[0] for r in FIXTURE["results"] if r and "error" in r}
    assert len(errors) > 50
    assert sum(1 for r in FIXTURE["results"] if r and "values" in r) > 500


@pytest.mark.parametrize("group", ["examples", "base", "cut", "insert", "other"])
def test_results_are_the_recorded_ones(group: str) -> None:
    table = FIXTURE["results"]
    names = [n for n in INPUTS if n.startswith(group) or (group == "other" and n[0] not in "bcei")]
    assert names
    for name in names:
        found = results(INPUTS[name])
        expected = FIXTURE["inputs"][name][1:]
        for kind, index in zip(KINDS, expected, strict=True):
            assert found[kind] == table[index], (name, kind)


def test_a_well_formed_header_reads_as_validated() -> None:
    """The header a fast read builds equals the one pydantic validates from its values,
    field by field, and counts every field as set."""
    for name, data in INPUTS.items():
        if not name.startswith("examples/cnaps2") or not data.startswith(b"{H:"):
            continue
        header = split_envelope(data)[0].header
        again = Cnaps2Header.model_validate(header.model_dump())
        built = Cnaps2Header.model_construct(None, **header.model_dump())
        for other in (again, built):
            assert header == other and vars(header) == vars(other), name
            assert list(vars(header)) == list(vars(other)), name
            for attribute in ("__pydantic_fields_set__", "__pydantic_extra__"):
                assert getattr(header, attribute) == getattr(other, attribute), name
        assert header.__pydantic_private__ == built.__pydantic_private__
        assert header.model_fields_set == set(Cnaps2Header.model_fields), name
        assert hash(header) == hash(again) and header.model_copy() == header
        with pytest.raises(ValidationError):
            header.mesg_id = "X"  # still frozen
        assert read_envelope(data[: split_envelope(data)[1]]).header == header
        assert Cnaps2Header.decode(header.encode()) == header

"""`unstorable` decides as the plain walk does, on any JSON-like value: resolvers/governance/inputs.py
lets orjson clear the common case and walks only what orjson flags."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.governance.inputs import ActorIn, ProposalIn
from resolvers.validation import DEEP_REFUSED, NUL_REFUSED, WIDE_REFUSED, _walk, unstorable

_text = st.text(alphabet=st.sampled_from(["a", "\x00", "\\", "u", "0", "é", "\n"]), max_size=8)
_ints = st.one_of(st.integers(-(2**63), 2**64 - 1), st.integers(), st.sampled_from([2**64, -(2**63) - 1, 2**63]))
_scalars = st.one_of(_text, _ints, st.booleans(), st.none(), st.floats(allow_nan=True))
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4),
                            st.tuples(inner, inner)),
    max_leaves=20,
)


@settings(max_examples=600, deadline=None)
@given(_values)
def test_same_verdict_as_the_walk(value: Any) -> None:
    assert unstorable(value) == _walk(value)


@settings(max_examples=200, deadline=None)
@given(_text, _text, st.dictionaries(_text, _values, max_size=3))
def test_same_verdict_on_models(kind: str, name: str, params: dict[str, Any]) -> None:
    proposal = ProposalIn.model_construct(type="t", actor=ActorIn.model_construct(kind=kind or "k", name=name),
                                          params=params)
    assert unstorable(proposal) == _walk(proposal)


def test_each_refusal_and_the_literal_text_that_looks_like_one() -> None:
    assert unstorable({"params": {"x": ["ok", "bad\x00"]}}) == NUL_REFUSED
    assert unstorable({"bad\x00key": 1}) == NUL_REFUSED
    assert unstorable([2**64]) == WIDE_REFUSED and unstorable([2**64 - 1, -(2**63)]) is None
    assert unstorable({"path": "C:\\u0000"}) is None  # a backslash, then 'u0000': storable text
    assert unstorable({1: "non-text key"}) is None  # orjson refuses it, the walk decides


def test_a_value_too_deep_to_walk_is_refused_not_crashed() -> None:
    deep: object = "\x00"
    for _ in range(5000):
        deep = [deep]
    assert unstorable(deep) == DEEP_REFUSED

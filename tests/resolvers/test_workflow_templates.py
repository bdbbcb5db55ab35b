"""Workflow templates: plain paths looked up in data, types kept, nothing ever evaluated."""

from __future__ import annotations

from typing import Any

import pytest

from resolvers.workflows import templates
from resolvers.workflows.templates import (
    MissingValue,
    Reference,
    Scope,
    TemplateError,
    has_template,
    references,
    render,
)


def scope() -> Scope:
    return Scope(
        input={"n": 42, "obj": {"a": [1, 2]}, "items": ["x", "y"], "none": None, "name": "Ada", "ok": True,
               "digits": {"0": "zero"}},
        steps={"fetch": {"output": {"id": "o_1", "rows": [{"v": 1.5}]}, "status": "completed"}},
        trigger={"event": "action.approved", "data": {"actionId": "act_1"}},
    )


# -------------------------------------------------------------------------------------- exact values


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ input.n }}", 42),
    ("{{input.obj}}", {"a": [1, 2]}),
    ("{{ input.items }}", ["x", "y"]),
    ("{{ input.none }}", None),
    ("{{ input.ok }}", True),
    ("  {{ input.n }}\n", 42),
    ("{{ input.obj.a.1 }}", 2),
    ("{{ input.digits.0 }}", "zero"),
    ("{{ steps.fetch.output.rows.0.v }}", 1.5),
    ("{{ steps.fetch.status }}", "completed"),
    ("{{ trigger.data.actionId }}", "act_1"),
    ("{{ trigger }}", {"event": "action.approved", "data": {"actionId": "act_1"}}),
])
def test_an_exact_template_keeps_the_json_type(template: str, expected: Any) -> None:
    assert render(template, scope()) == expected


def test_exact_values_are_the_scope_values_themselves() -> None:
    s = scope()
    assert render("{{ input.obj }}", s) is s.input["obj"]


# ------------------------------------------------------------------------------------- interpolation


def test_templates_inside_text_are_interpolated_as_compact_json() -> None:
    text = "n={{ input.n }} name={{input.name}} obj={{ input.obj }} none={{ input.none }} ok={{ input.ok }}"
    assert render(text, scope()) == 'n=42 name=Ada obj={"a":[1,2]} none=null ok=true'


def test_two_templates_side_by_side_are_text() -> None:
    assert render("{{ input.name }}{{ input.n }}", scope()) == "Ada42"


def test_dicts_and_lists_are_rendered_recursively_but_keys_are_not() -> None:
    config = {"url": "https://x/{{ steps.fetch.output.id }}", "{{ input.n }}": "key kept",
              "body": {"ids": ["{{ input.n }}", {"deep": "{{ input.items.1 }}"}], "count": 3, "flag": False}}
    assert render(config, scope()) == {
        "url": "https://x/o_1", "{{ input.n }}": "key kept",
        "body": {"ids": [42, {"deep": "y"}], "count": 3, "flag": False},
    }


def test_values_without_templates_are_unchanged() -> None:
    for value in (None, 3, 2.5, True, "plain text", "a } b { c", "}} {"):
        assert render(value, scope()) == value


def test_rendering_does_not_change_the_config() -> None:
    config = {"a": ["{{ input.n }}"]}
    render(config, scope())
    assert config == {"a": ["{{ input.n }}"]}


# ---------------------------------------------------------------------------------------- missing


@pytest.mark.parametrize("path", [
    "input.absent", "input.items.5", "input.items.name", "input.n.deeper", "steps.other.output",
    "steps.fetch.output.nope", "trigger.data.missing",
])
def test_a_missing_value_is_named(path: str) -> None:
    with pytest.raises(MissingValue) as caught:
        render(f"x {{{{ {path} }}}}", scope())
    assert caught.value.path == path
    assert str(caught.value) == f"{path} is missing"


def test_a_missing_value_inside_a_dict_is_named() -> None:
    with pytest.raises(MissingValue, match=r"steps\.fetch\.output\.id2 is missing"):
        render({"a": [{"b": "{{ steps.fetch.output.id2 }}"}]}, scope())


def test_an_empty_scope_has_nothing_but_null_roots() -> None:
    assert render("{{ input }}", Scope()) is None
    with pytest.raises(MissingValue):
        render("{{ input.x }}", Scope())


# ----------------------------------------------------------------------------------- bad templates


@pytest.mark.parametrize("text", [
    "{{ input.x | upper }}",
    "{{ __import__('os') }}",
    "{{ __import__('os').system('touch /tmp/pwned') }}",
    "{{ input['x'] }}",
    "{{ input.x() }}",
    "{{ input.x + 1 }}",
    "{{ 'literal' }}",
    "{{ 1 }}",
    "{{ }}",
    "{{ input..x }}",
    "{{ input.x. }}",
    "{{ input.-1 }}",
    "{{ env.HOME }}",
    "{{ self.__class__ }}",
    "{{ steps.a }}",
    "{{ steps.a.input }}",
    "{{ steps.0.output }}",
    "{{ steps.a.status.x }}",
    "{{ input.x }} and {{ broken",
    "{{ input.x",
    "{{{ input.x }}}",
])
def test_bad_templates_are_refused(text: str) -> None:
    with pytest.raises(TemplateError):
        references(text)
    with pytest.raises(TemplateError):
        render(text, scope())


def test_the_error_says_where_and_quotes_the_template() -> None:
    with pytest.raises(TemplateError) as caught:
        references({"url": "https://x/{{ input.x | upper }}"}, "config")
    assert str(caught.value) == "config.url: bad template '{{ input.x | upper }}'"


def test_an_unclosed_template_is_named() -> None:
    with pytest.raises(TemplateError, match=r"config\.body\.list\[1\]: unclosed"):
        references({"body": {"list": ["ok", "{{ input.x"]}}, "config")


def test_a_long_bad_template_is_cut_short_in_the_message() -> None:
    with pytest.raises(TemplateError) as caught:
        references("{{ " + "x" * 5000 + " }}")
    assert len(str(caught.value)) < 200


def test_no_code_is_ever_evaluated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither eval nor exec is reachable, and a would-be payload leaves no trace."""
    calls: list[str] = []
    monkeypatch.setattr("builtins.eval", lambda *a, **k: calls.append("eval"))
    monkeypatch.setattr("builtins.exec", lambda *a, **k: calls.append("exec"))
    monkeypatch.setattr("builtins.__import__", _spy_import(calls))
    for text in ("{{ __import__('os').system('echo hi') }}", "{{ input.__class__.__mro__ }}"):
        with pytest.raises((TemplateError, MissingValue)):
            render(text, scope())
    assert calls == []


def _spy_import(calls: list[str]) -> Any:
    import builtins

    real = builtins.__import__

    def spy(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "os":
            calls.append("import os")
        return real(name, *args, **kwargs)

    return spy


def test_dunder_paths_only_read_dict_keys() -> None:
    """`input.__class__` is a dict key lookup, not an attribute: missing unless the data has it."""
    with pytest.raises(MissingValue):
        render("{{ input.__class__ }}", scope())
    assert render("{{ input.__class__ }}", Scope(input={"__class__": "just data"})) == "just data"


# ---------------------------------------------------------------------------------------- references


def test_references_walks_values_and_parses_paths() -> None:
    config = {"url": "https://x/{{ input.id }}?s={{ steps.fetch.output.items.0.id }}",
              "{{ ignored.key }}": ["{{ trigger.data }}", {"x": "{{steps.fetch.status}}"}], "n": 5}
    assert references(config) == [
        Reference("input", None, ("id",), "input.id"),
        Reference("steps", "fetch", ("output", "items", 0, "id"), "steps.fetch.output.items.0.id"),
        Reference("trigger", None, ("data",), "trigger.data"),
        Reference("steps", "fetch", ("status",), "steps.fetch.status"),
    ]


def test_located_references_say_where() -> None:
    found = templates.located_references({"a": {"b": ["x", "{{ input.y }}"]}}, "config")
    assert [where for where, _ in found] == ["config.a.b[1]"]


def test_references_of_plain_values_are_none() -> None:
    assert references({"a": [1, "b", None, {"c": True}]}) == []


def test_has_template() -> None:
    assert has_template("x {{ input.a }}")
    assert has_template({"a": [{"b": "{{"}]})
    assert not has_template({"{{ key }}": "value"})
    assert not has_template(["a", 1, None, {"b": "}}"}])


def test_parsed_templates_are_cached() -> None:
    text = "cached {{ input.n }} " + "z" * 10
    render(text, scope())
    hits = templates._parse.cache_info().hits
    render(text, scope())
    assert templates._parse.cache_info().hits == hits + 1

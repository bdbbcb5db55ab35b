"""Workflow definitions checked on save: every refusal names the step (`steps[i] 'name':`) and field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from resolvers.errors import Invalid, NotFound
from resolvers.workflows.definition import check_config, check_definition, step_names

DOCUMENT_EXAMPLE = {"steps": [{"name": "step1", "type": "http_request",
                               "config": {"method": "GET", "url": "https://api.example.com/data"}}]}

POST_SCHEMA = {
    "type": "object",
    "properties": {"channel": {"type": "string"}, "text": {"type": "string"}, "count": {"type": "integer"}},
    "required": ["channel", "text"],
    "additionalProperties": False,
}


class FakeConnectors:
    """The injected connector check: knows `con_1` with action `post`, records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    async def __call__(self, connector_id: str, action: str) -> dict[str, Any] | None:
        self.asked.append((connector_id, action))
        if connector_id == "con_gone":
            raise NotFound(f"connector {connector_id} not found")
        if connector_id != "con_1":
            raise Invalid(f"config.connectorId: connector {connector_id} not found")
        if action == "free":
            return None
        if action != "post":
            raise Invalid(f"config.action: connector con_1 has no action {action!r}")
        return POST_SCHEMA


def step(name: str, type_: str = "http_request", **config: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "config": config or {"url": "https://example.com"}}


def connector_step(name: str, **input_: Any) -> dict[str, Any]:
    return step(name, "connector", connectorId="con_1", action="post", input=input_)


async def check(*steps: dict[str, Any]) -> dict[str, Any]:
    return await check_definition({"steps": list(steps)}, FakeConnectors())


async def refused(*steps: Any) -> str:
    with pytest.raises(Invalid) as caught:
        await check(*steps)
    return caught.value.message


# ------------------------------------------------------------------------------------------ valid


async def test_the_document_example_validates_as_written() -> None:
    given = copy.deepcopy(DOCUMENT_EXAMPLE)
    assert await check_definition(given, FakeConnectors()) == DOCUMENT_EXAMPLE
    assert given == DOCUMENT_EXAMPLE


async def test_every_step_type_validates_and_defaults_are_filled() -> None:
    fake = FakeConnectors()
    definition: dict[str, Any] = {"steps": [
        {"name": "fetch", "type": "http_request", "config": {"url": "https://api.example.com/{{ input.id }}"},
         "retry": {"maxAttempts": 5}, "timeoutMs": 1000, "continueOnError": True},
        {"name": "post", "type": "connector", "config": {
            "connectorId": "con_1", "action": "post",
            "input": {"channel": "#ops", "text": "got {{ steps.fetch.output.title }}"}}},
        {"name": "ask", "type": "approval", "config": {"type": "delete_content", "target": "{{ trigger.target }}",
                                                       "params": {"id": "{{ steps.fetch.output.id }}"}}},
        {"name": "wait", "type": "delay", "config": {"seconds": 30}},
        {"name": "later", "type": "delay", "config": {"until": "2030-01-01T00:00:00Z"}},
        {"name": "free", "type": "connector", "config": {"connectorId": "con_1", "action": "free"}},
    ]}
    result = await check_definition(definition, fake)
    steps = result["steps"]
    assert steps[0]["config"]["method"] == "GET"
    assert steps[0]["retry"] == {"maxAttempts": 5, "backoffMs": 1000}
    assert steps[0]["timeoutMs"] == 1000 and steps[0]["continueOnError"] is True
    assert steps[2]["config"]["actor"] == {"kind": "workflow"}
    assert steps[5]["config"]["input"] == {}
    assert fake.asked == [("con_1", "post"), ("con_1", "free")]
    assert "method" not in definition["steps"][0]["config"]  # the caller's copy is left alone


def test_step_names() -> None:
    assert step_names({"steps": [step("a"), "junk", step("b")]}) == ["a", "b"]
    assert step_names(None) == []


# ---------------------------------------------------------------------------------------- envelope


@pytest.mark.parametrize("definition", [
    None, [], "steps", {}, {"steps": []}, {"steps": "x"}, {"steps": [step("a")], "extra": 1},
    {"steps": [step(f"s{i}") for i in range(51)]},
])
async def test_a_malformed_definition_is_refused(definition: Any) -> None:
    with pytest.raises(Invalid, match="definition"):
        await check_definition(definition, FakeConnectors())


async def test_a_deeply_nested_definition_is_refused_cleanly() -> None:
    deep: Any = "x"
    for _ in range(2000):
        deep = [deep]
    with pytest.raises(Invalid, match="definition must be plain JSON"):
        await check(step("a", url="https://x", body=deep))


@pytest.mark.parametrize("name", ["", "1st", "-a", "a b", "a.b", "x" * 65, "a\n", 7, None])
async def test_a_bad_name_is_refused_with_the_step_position(name: Any) -> None:
    message = await refused(step("ok"), {"name": name, "type": "delay", "config": {"seconds": 1}})
    assert message.startswith("steps[1]: name must be")


async def test_a_step_that_is_not_an_object_is_refused() -> None:
    assert (await refused(step("a"), "b")).startswith("steps[1]: must be an object")


async def test_duplicate_names_are_refused() -> None:
    message = await refused(step("a"), step("b"), step("a"))
    assert message == "steps[2] 'a': name already used by steps[0]"


async def test_an_unknown_type_is_refused_listing_the_known_ones() -> None:
    message = await refused(step("a"), {"name": "mail", "type": "email", "config": {}})
    assert message == ("steps[1] 'mail': type: unknown step type 'email'; "
                       "known types: approval, connector, delay, http_request")


@pytest.mark.parametrize(("extra", "field"), [
    ({"retry": {"maxAttempts": 0}}, "retry.maxAttempts"),
    ({"retry": {"maxAttempts": 21}}, "retry.maxAttempts"),
    ({"retry": {"backoffMs": 9}}, "retry.backoffMs"),
    ({"retry": {"backoffMs": 3_600_001}}, "retry.backoffMs"),
    ({"retry": {"maxAttempts": 2, "jitter": True}}, "retry"),
    ({"timeoutMs": 0}, "timeoutMs"),
    ({"timeoutMs": 3_600_001}, "timeoutMs"),
    ({"continueOnError": "yes"}, "continueOnError"),
    ({"when": "always"}, "step"),
])
async def test_step_options_are_bounded(extra: dict[str, Any], field: str) -> None:
    message = await refused({**step("fetch"), **extra})
    assert message.startswith(f"steps[0] 'fetch': {field}: ")


async def test_retry_bounds_are_inclusive() -> None:
    result = await check({**step("a"), "retry": {"maxAttempts": 20, "backoffMs": 10}},
                         {**step("b"), "retry": {"maxAttempts": 1, "backoffMs": 3_600_000}})
    assert [s["retry"]["maxAttempts"] for s in result["steps"]] == [20, 1]


async def test_a_step_without_config_is_refused() -> None:
    message = await refused({"name": "a", "type": "delay"})
    assert message == "steps[0] 'a': step: 'config' is a required property"


# ------------------------------------------------------------------------------------------ configs


@pytest.mark.parametrize(("config", "field"), [
    ({}, "config: 'url' is a required property"),
    ({"url": "ftp://example.com"}, "config.url:"),
    ({"url": "https://x", "method": "FETCH"}, "config.method:"),
    ({"url": "https://x", "headers": {"X-A": 1}}, "config.headers.X-A:"),
    ({"url": "https://x", "query": {"q": [1]}}, "config.query.q:"),
    ({"url": "https://x", "timeoutMs": 300_001}, "config.timeoutMs:"),
    ({"url": "https://x", "other": 1}, "config: Additional properties"),
])
async def test_http_request_configs_are_checked(config: dict[str, Any], field: str) -> None:
    message = await refused(step("a"), {"name": "call", "type": "http_request", "config": config})
    assert message.startswith(f"steps[1] 'call': {field}")


@pytest.mark.parametrize(("config", "field"), [
    ({"seconds": 5, "until": "2030-01-01T00:00:00Z"}, "config: give exactly one of seconds or until"),
    ({}, "config: give exactly one of seconds or until"),
    ({"seconds": -1}, "config.seconds:"),
    ({"seconds": 2_592_001}, "config.seconds:"),
    ({"seconds": "5"}, "config.seconds:"),
    ({"until": "tomorrow"}, "config.until:"),
])
async def test_delay_configs_are_checked(config: dict[str, Any], field: str) -> None:
    message = await refused({"name": "pause", "type": "delay", "config": config})
    assert message.startswith(f"steps[0] 'pause': {field}")


async def test_approval_needs_a_type_and_an_actor_kind() -> None:
    assert (await refused(step("ask", "approval", target="x"))).startswith(
        "steps[0] 'ask': config: 'type' is a required property")
    assert (await refused(step("ask", "approval", type="t", actor={"name": "n"}))).startswith(
        "steps[0] 'ask': config.actor: 'kind' is a required property")


async def test_a_whole_object_is_never_quoted_in_a_message() -> None:
    message = await refused(step("a", url="https://x", headers=["Authorization: Bearer sk_live_secret"]))
    assert message == "steps[0] 'a': config.headers: must be of type 'object'"


# ---------------------------------------------------------------------------------------- templates


async def test_templated_values_pass_where_literals_would_fail() -> None:
    result = await check(step("a", url="{{ input.url }}", method="{{ input.method }}",
                              timeoutMs="{{ input.timeout }}", headers="{{ input.headers }}"),
                         {"name": "b", "type": "delay", "config": {"seconds": "{{ steps.a.output.wait }}"}},
                         {"name": "c", "type": "delay", "config": {"until": "{{ trigger.at }}"}})
    assert result["steps"][0]["config"]["url"] == "{{ input.url }}"


async def test_templates_do_not_excuse_missing_fields_or_wrong_literals() -> None:
    assert (await refused(step("a", method="{{ input.method }}"))).startswith(
        "steps[0] 'a': config: 'url' is a required property")
    assert (await refused(step("a", url="{{ input.url }}", timeoutMs="soon"))).startswith(
        "steps[0] 'a': config.timeoutMs:")


async def test_a_bad_template_is_refused_naming_step_and_field() -> None:
    message = await refused(step("a"), step("notify", url="https://x/{{ input.x | upper }}"))
    assert message == "steps[1] 'notify': config.url: bad template '{{ input.x | upper }}'"


@pytest.mark.parametrize("template", ["{{ __import__('os') }}", "{{ input['x'] }}", "{{ steps.a }}", "{{ input.x"])
async def test_templates_that_are_not_plain_paths_are_refused(template: str) -> None:
    message = await refused(step("a"), step("b", url="https://x", body={"v": [template]}))
    assert message.startswith("steps[1] 'b': config.body.v[0]: ")


async def test_a_step_may_read_earlier_steps_input_and_trigger() -> None:
    await check(step("a"), step("b", url="https://x/{{ steps.a.output.id }}?s={{ steps.a.status }}"
                                         "&i={{ input.q }}&t={{ trigger.event }}"))


async def test_a_reference_to_a_later_step_is_refused() -> None:
    message = await refused(step("a", url="https://x/{{ steps.b.output.id }}"), step("b"))
    assert message == ("steps[0] 'a': config.url: '{{ steps.b.output.id }}' refers to step 'b', "
                       "which runs later; only earlier steps can be read")


async def test_a_reference_to_itself_or_an_unknown_step_is_refused() -> None:
    own = await refused(step("a"), step("b", url="https://x", headers={"X": "{{ steps.b.output.x }}"}))
    assert own.startswith("steps[1] 'b': config.headers.X: '{{ steps.b.output.x }}' refers to its own step")
    unknown = await refused(step("a"), step("b", url="https://x/{{ steps.zz.output }}"))
    assert unknown.startswith("steps[1] 'b': config.url: '{{ steps.zz.output }}' refers to unknown step 'zz'")


@pytest.mark.parametrize(("type_", "config", "field"), [
    ("connector", {"connectorId": "{{ input.connector }}", "action": "post"}, "connectorId"),
    ("connector", {"connectorId": "con_1", "action": "{{ input.action }}"}, "action"),
    ("http_request", {"url": "https://x", "credentialId": "{{ input.credential }}"}, "credentialId"),
])
async def test_what_is_called_and_which_secret_is_sent_must_be_literal(
        type_: str, config: dict[str, Any], field: str) -> None:
    message = await refused(step("pick", type_, **config))
    assert message == f"steps[0] 'pick': config.{field}: must be written as is, not as a template"


# ---------------------------------------------------------------------------------------- connectors


async def test_a_failing_connector_check_is_refused_naming_the_step() -> None:
    message = await refused(step("a"), step("post", "connector", connectorId="con_other", action="post"))
    assert message == "steps[1] 'post': config.connectorId: connector con_other not found"
    message = await refused(step("post", "connector", connectorId="con_1", action="delete"))
    assert message == "steps[0] 'post': config.action: connector con_1 has no action 'delete'"


async def test_a_connector_not_found_becomes_a_validation_error() -> None:
    message = await refused(step("post", "connector", connectorId="con_gone", action="post"))
    assert message == "steps[0] 'post': connector con_gone not found"


async def test_the_connector_is_not_asked_when_the_config_is_already_wrong() -> None:
    fake = FakeConnectors()
    with pytest.raises(Invalid):
        await check_definition({"steps": [step("post", "connector", connectorId="con_1")]}, fake)
    assert fake.asked == []


async def test_connector_input_is_checked_against_the_action_schema() -> None:
    message = await refused(connector_step("post", channel="#ops", text="hi", count="three"))
    assert message.startswith("steps[0] 'post': config.input.count: 'three' is not of type 'integer'")
    message = await refused(connector_step("post", channel="#ops"))
    assert message == "steps[0] 'post': config.input: 'text' is a required property"
    message = await refused(connector_step("post", channel="#ops", text="hi", extra=1))
    assert message.startswith("steps[0] 'post': config.input: Additional properties")


async def test_templated_connector_input_passes_the_schema() -> None:
    await check(step("a"), connector_step("post", channel="#ops", text="{{ steps.a.output.summary }}",
                                          count="{{ steps.a.output.count }}"))
    await check(step("post", "connector", connectorId="con_1", action="post", input="{{ input.payload }}"))


async def test_a_template_in_one_branch_of_any_of_passes() -> None:
    async def either(connector_id: str, action: str) -> dict[str, Any]:
        return {"anyOf": [{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
                          {"type": "object", "properties": {"s": {"type": "string"}}, "required": ["s"]}]}

    input_step = step("c", "connector", connectorId="con_1", action="x", input={"n": "{{ input.n }}"})
    await check_definition({"steps": [input_step]}, either)
    bad = step("c", "connector", connectorId="con_1", action="x", input={"n": "three"})
    with pytest.raises(Invalid, match=r"^steps\[0\] 'c': config\.input"):
        await check_definition({"steps": [bad]}, either)


# ----------------------------------------------------------------------------------- run-time check


def test_a_rendered_config_is_checked_strictly() -> None:
    assert check_config("http_request", {"url": "https://x"}, templates=False)["method"] == "GET"
    with pytest.raises(Invalid, match=r"^config\.method: "):
        check_config("http_request", {"url": "https://x", "method": "{{ oops }}"}, templates=False)
    with pytest.raises(Invalid, match=r"^config: must be an object"):
        check_config("delay", "{{ input }}")

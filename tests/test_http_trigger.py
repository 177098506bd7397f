"""A function's HTTP trigger: declared from its `http` setting, on the alias, checked at preview."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import conftest
import pytest
from conftest import Evaluation, entry, evaluate, run_main

from infra import ConfigError, RustFunction
from infra.http_trigger import METHODS, check_http, trigger_config

if TYPE_CHECKING:
    from pathlib import Path

    from infra import RustFunctionArgs
    from infra.http_trigger import HttpArgs

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _in_repo(in_repo: Path) -> None:
    del in_repo


def deploy(args: RustFunctionArgs) -> Evaluation:
    return evaluate(lambda: RustFunction("web", args), {"alicloud:region": "cn-hangzhou"})


def test_fc3_http_trigger_on_the_alias_with_its_urls_as_outputs() -> None:
    evaluation = run_main(
        functions=entry("hello", http={"authType": "anonymous", "methods": ["POST", "GET"]})
    )
    trigger = evaluation.by_name("hello-http-trigger")
    assert trigger.plain() == {
        "functionName": "hello-dev",
        "triggerName": "http",
        "triggerType": "http",
        "qualifier": "live",
        # Methods in FC's order: listing them in another order is no change.
        "triggerConfig": (
            '{"authType":"anonymous","methods":["GET","POST"],"disableURLInternet":false}'
        ),
    }
    # One HTTP trigger per alias: a replacement must delete the old one first.
    assert trigger.delete_before_replace
    hello = evaluation.outputs["hello"]
    assert hello["http_url"].startswith("https://hello-dev-")
    assert hello["http_url"].endswith(".cn-hangzhou.fcapp.run")
    assert hello["http_internal_url"].endswith(".cn-hangzhou-vpc.fcapp.run")
    assert evaluation.outputs["sync-forks"]["http_url"] == ""


def test_fc2_http_trigger_on_the_function() -> None:
    evaluation = deploy({"crate": "hello", "fc_version": "2.0", "http": {"methods": ["GET"]}})
    trigger = evaluation.by_name("web-http-trigger")
    assert trigger.plain() == {
        "service": "web-dev",
        "function": "web-dev",
        "name": "http",
        "type": "http",
        "config": '{"authType":"function","methods":["GET"]}',
    }
    # One trigger named http per function: a replacement must delete the old one first.
    assert trigger.delete_before_replace


def test_defaults_are_fcs_signed_requests_and_every_method() -> None:
    assert json.loads(trigger_config({}, fc_version="3.0")) == {
        "authType": "function",
        "methods": list(METHODS),
        "disableURLInternet": False,
    }
    assert deploy({"crate": "hello"}).of_type("alicloud:fc/v3Trigger:V3Trigger") == []


@pytest.mark.parametrize(
    ("http", "message"),
    [
        ({"auth_type": "jwt"}, "http.auth_type must be 'anonymous' or 'function', got 'jwt'"),
        ({"methods": []}, "http.methods must list some of GET, POST"),
        ({"methods": ["GET", "TRACE"]}, "http.methods must list some of"),
        ({"methods": ["GET", "GET"]}, "each once"),
        ({"disable_url_internet": "yes"}, "http.disable_url_internet must be true or false"),
        ({"cors": True}, "http has unknown settings 'cors'"),
    ],
)
def test_bad_http_settings_fail_before_anything_registers(http: HttpArgs, message: str) -> None:
    assert any(message in p for p in check_http(http, fc_version="3.0"))
    with pytest.raises(ConfigError, match=message):
        deploy({"crate": "hello", "http": http})
    assert conftest.LAST_EVALUATION.resources == []


def test_the_stack_key_is_named_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        run_main(functions=entry("hello", http={"authType": "jwt", "methodz": ["GET"]}))
    problems = "\n".join(caught.value.problems)
    assert "functions.hello.http" in problems
    assert "unknown setting 'methodz' in http" in problems


def test_internal_only_is_fc3s() -> None:
    assert check_http({"disable_url_internet": True}, fc_version="2.0") == [
        "http.disable_url_internet is an FC 3.0 setting"
    ]

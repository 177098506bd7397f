"""Custom domains from the stack's `domains`: routes to HTTP functions, HTTPS from secrets."""

from __future__ import annotations

import json
import runpy

import conftest
import pytest
from conftest import REPO, dev_config, evaluate, is_secret, run_main

from infra import ConfigError
from infra.domains import CustomDomain, CustomDomainArgs, domain_problems

pytestmark = pytest.mark.unit

DOMAIN = "api.example.com"
ROUTES = [{"path": "/*", "function": "hello-http", "methods": ["POST", "GET"]}]
CERT_PEM = "-----BEGIN CERTIFICATE-----\ntest-certificate-not-real\n-----END CERTIFICATE-----"
KEY_PEM = "-----BEGIN PRIVATE KEY-----\ntest-key-not-real\n-----END PRIVATE KEY-----"


@pytest.fixture(autouse=True)
def _in_repo(in_repo: object) -> None:
    del in_repo


def deploy_https() -> conftest.Evaluation:
    domains = {
        DOMAIN: {
            "protocol": "HTTP,HTTPS",
            "routes": ROUTES,
            "certificate": {"name": "api", "certificate": "apiCert", "privateKey": "apiKey"},
        }
    }
    config = dev_config(domains=json.dumps(domains))
    config |= {"fc-rust:apiCert": CERT_PEM, "fc-rust:apiKey": KEY_PEM}
    secrets = ["fc-rust:githubToken", "fc-rust:apiCert", "fc-rust:apiKey"]
    return evaluate(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"), config, secrets
    )


def test_a_domain_routes_to_the_functions_alias() -> None:
    evaluation = run_main(domains=json.dumps({DOMAIN: {"routes": ROUTES}}))
    domain = evaluation.by_name(f"domain-{DOMAIN}-domain").plain()
    assert domain == {
        "customDomainName": DOMAIN,
        "protocol": "HTTP",
        "routeConfig": {
            "routes": [
                {
                    "path": "/*",
                    "functionName": "hello-http-dev",
                    "qualifier": "live",
                    "methods": ["GET", "POST"],
                }
            ]
        },
    }


def test_https_takes_its_certificate_and_key_as_secrets() -> None:
    evaluation = deploy_https()
    domain = evaluation.by_name(f"domain-{DOMAIN}-domain")
    # The key and certificate are secrets, so the whole block is one on the wire.
    assert is_secret(domain.inputs["certConfig"])
    assert domain.plain()["certConfig"]["certName"] == "api"
    assert domain.plain()["certConfig"]["privateKey"] == KEY_PEM
    assert "test-key-not-real" not in json.dumps(evaluation.outputs)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"routes": [{"path": "/", "function": "nope"}]}, "routes[0].function must name an entry"),
        ({"routes": [{"path": "/", "function": "hello"}]}, "'hello' needs an http setting"),
        ({"routes": [{"path": "api", "function": "hello-http"}]}, "path must start with '/'"),
        ({"routes": ROUTES, "protocol": "HTTPS"}, "protocol HTTPS needs a certificate"),
        ({"routes": ROUTES, "protocol": "FTP"}, "protocol must be one of"),
        ({"routes": ROUTES, "tls": {}}, "unknown setting 'tls'"),
        (
            {"routes": ROUTES, "certificate": {"certificate": "unset", "privateKey": "unset"}},
            "certificate.certificate must name a secret config key",
        ),
    ],
)
def test_a_bad_domain_fails_before_anything_registers(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        run_main(domains=json.dumps({DOMAIN: settings}))
    problems = "\n".join(caught.value.problems)
    assert f"domains.{DOMAIN}" in problems
    assert message in problems
    assert conftest.LAST_EVALUATION.resources == []


def test_a_domain_name_is_a_lower_case_dns_name() -> None:
    routes = [{"path": "/", "function_name": "f", "qualifier": "live"}]
    assert domain_problems({"domain_name": "API.example.com", "routes": routes})  # type: ignore[typeddict-item]
    assert domain_problems({"domain_name": "api.example.com", "routes": routes}) == []  # type: ignore[typeddict-item]


def test_the_library_keeps_a_plain_key_secret() -> None:
    """Mutation: a certificate passed as plain text and not wrapped in Output.secret."""
    args: CustomDomainArgs = {
        "domain_name": DOMAIN,
        "protocol": "HTTPS",
        "routes": [{"path": "/", "function_name": "web", "qualifier": "live"}],
        "certificate": {"name": "api", "certificate": CERT_PEM, "private_key": KEY_PEM},
    }
    evaluation = evaluate(lambda: CustomDomain("site", args), {"alicloud:region": "cn-hangzhou"})
    assert is_secret(evaluation.by_name("site-domain").inputs["certConfig"])

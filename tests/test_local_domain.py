"""`serve --domain`: a stack's custom domains before the packaged hello-http, routed as FC does.

The program is written for the test: two entries of the crate hello-http, `greeter` (its own
trigger signed-only, GET and POST) and `echoer`, behind two domains:

- api.example.com: `/hello/*` -> greeter (GET), `/context` -> echoer;
- www.example.com: `/*` -> greeter (GET), `/context` -> echoer.

Driven over real sockets; each wait is for a line or a port, never a sleep. Each test names the
bug it was seen to catch, planted in the emulator.
"""

from __future__ import annotations

import json
import re
import shutil
from typing import TYPE_CHECKING

import pytest
from test_local import ROOT, run_cli
from test_local_http import Served, copy_package

from infra.errors import ConfigError
from infra.local.domains import Domain, Route, load_domains, pick_domain
from infra.local.stack import load_functions

if TYPE_CHECKING:
    import http.client
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.unit

STACK = "local"
DOMAIN_LINE = re.compile(r"serving domain www\.example\.com on http://127\.0\.0\.1:(?P<port>\d+)/")
STACK_FILE = f"""config:
  alicloud:region: cn-hangzhou
  fc-rust:functions:
    greeter:
      crate: hello-http
      workspace: {ROOT}
      http: {{authType: function, methods: [GET, POST]}}
    echoer:
      crate: hello-http
      workspace: {ROOT}
      http: {{authType: anonymous}}
    hello: {{workspace: {ROOT}}}
  fc-rust:domains:
    api.example.com:
      routes:
        - {{path: /hello/*, function: greeter, methods: [GET]}}
        - {{path: /context, function: echoer}}
    www.example.com:
      routes:
        - {{path: /*, function: greeter, methods: [GET]}}
        - {{path: /context, function: echoer}}
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test's program: the project's Pulumi.yaml and a stack `local` with the domains."""
    directory = tmp_path_factory.mktemp("program")
    shutil.copyfile(ROOT / "Pulumi.yaml", directory / "Pulumi.yaml")
    (directory / f"Pulumi.{STACK}.yaml").write_text(STACK_FILE)
    return directory


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_package(tmp_path_factory)


@pytest.fixture(scope="module")
def served(package: Path, program: Path) -> Iterator[Served]:
    """Both domains on one port, from one copy of hello-http's package."""
    running = Served(
        [
            "--dir",
            str(program),
            "--stack",
            STACK,
            "--domain",
            "api.example.com",
            "--domain",
            "www.example.com",
            "--zip",
            str(package),
        ]
    )
    try:
        yield running
    finally:
        running.stop()


def request(
    served: Served, host: str, method: str, path: str, body: bytes | None = None
) -> tuple[int, http.client.HTTPResponse, bytes]:
    """One request on its own connection (a refusal closes it): status, answer, body."""
    client = served.connect(DOMAIN_LINE)
    try:
        client.request(method, path, body=body, headers={"Host": host})
        answer = client.getresponse()
        return answer.status, answer, answer.read()
    finally:
        client.close()


def test_a_route_reaches_its_function_with_the_path_intact(served: Served) -> None:
    """Caught: the route's prefix stripped from the path (greeter saw `/Ada`: its 404), and the
    function's own trigger's auth type applied to the domain (401: greeter's trigger is signed)."""
    status, answer, body = request(served, "api.example.com", "GET", "/hello/Ada?x=1")
    assert (status, answer.getheader("content-type")) == (200, "application/json"), body
    assert json.loads(body) == {"message": "Hello, Ada!"}
    served.wait_for(r"api\.example\.com: GET /hello/Ada\?x=1 -> route /hello/\* \(greeter\)")
    served.wait_for(r"GET /hello/Ada\?x=1 \(request [0-9a-f-]+\): HTTP 200")


def test_a_path_no_route_matches_gets_the_not_found_answer(served: Served) -> None:
    """Caught: `/hello/*` matched as a prefix without its slash, so that `/hello` reached
    greeter (hello-http's own empty 404, no errorType)."""
    for path in ("/hello", "/events", "/"):
        status, answer, body = request(served, "api.example.com", "GET", path)
        assert status == 404, (path, body)
        assert answer.getheader("x-fc-error-type") == "PathNotFound"
        assert json.loads(body)["errorType"] == "PathNotFound"
    served.wait_for(r"GET /events: refused, HTTP 404 PathNotFound")


def test_a_method_not_on_the_route_is_refused(served: Served) -> None:
    """Caught: the trigger's methods (GET, POST) checked instead of the route's (GET): `POST /echo`
    reached greeter and was echoed with a 200."""
    status, answer, body = request(served, "www.example.com", "POST", "/echo", b"x")
    assert status == 405, body
    assert answer.getheader("x-fc-error-type") == "MethodNotAllowed"
    assert "route /* of www.example.com" in json.loads(body)["errorMessage"]


def test_two_functions_behind_one_domain_each_get_their_own_routes(served: Served) -> None:
    """Caught: the first route in the list taken (`/*`, greeter) where FC prefers the exact
    `/context` (echoer): `GET /context` answered with greeter's name."""
    status, _, body = request(served, "www.example.com", "GET", "/context")
    assert status == 200, body
    assert json.loads(body)["function_name"] == "echoer-local"
    status, _, body = request(served, "www.example.com", "GET", "/hello/Grace")
    assert (status, json.loads(body)) == (200, {"message": "Hello, Grace!"})
    served.wait_for(r"www\.example\.com: GET /hello/Grace -> route /\* \(greeter\)")


def test_the_host_header_picks_the_domain(served: Served) -> None:
    """Caught: the first domain served whatever the Host (www's `/events` answered 404)."""
    assert request(served, "api.example.com", "GET", "/events")[0] == 404
    status, answer, _ = request(served, "www.example.com:80", "GET", "/events")
    assert (status, answer.getheader("content-type")) == (200, "text/event-stream")
    status, answer, _ = request(served, "other.example.com", "GET", "/events")
    assert (status, answer.getheader("x-fc-error-type")) == (404, "DomainNameNotFound")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/a", "/a"),  # exact
        ("/a/", "/*"),  # an exact route matches its path only
        ("/login/a", "/login/*"),  # and `/login/a/*` needs the slash too
        ("/login/b/c/d", "/login/*"),
        ("/login", "/*"),  # `/login/*` needs the slash
        ("/login/a/b", "/login/a/*"),  # the longest prefix of several
        ("/a?x=1", "/a"),  # the query is not matched
        ("/login/a/exact", "/login/a/exact"),  # exact before any `*`
    ],
)
def test_routes_match_as_fc_matches_them(path: str, expected: str) -> None:
    routes = ("/*", "/login/*", "/login/a/*", "/a", "/login/a/exact")
    domain = Domain("api.example.com", tuple(Route(p, "f") for p in routes))
    found = domain.route(path)
    assert found is not None
    assert found.path == expected


def test_one_domain_served_takes_any_host() -> None:
    one = Domain("api.example.com", (Route("/*", "f"),))
    two = Domain("www.example.com", (Route("/*", "f"),))
    assert pick_domain([one], "127.0.0.1:9000") is one
    assert pick_domain([one, two], "WWW.example.com.:9000") is two
    assert pick_domain([one, two], None) is None


def test_a_domain_is_checked_as_the_program_checks_it(program: Path, tmp_path: Path) -> None:
    functions = load_functions(STACK, program, {})
    assert sorted(load_domains(STACK, program, functions)) == ["api.example.com", "www.example.com"]
    shutil.copyfile(program / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    bad = STACK_FILE.replace("function: echoer}", "function: hello}").replace(
        "path: /hello/*", "path: hello/*"
    )
    (tmp_path / f"Pulumi.{STACK}.yaml").write_text(bad)
    with pytest.raises(ConfigError) as caught:
        load_domains(STACK, tmp_path, load_functions(STACK, tmp_path, {}))
    problems = "\n".join(caught.value.problems)
    assert "domains.api.example.com.routes[1].function 'hello' needs an http setting" in problems
    assert "a route's path must start with '/', got 'hello/*'" in problems


def test_serve_names_the_stacks_domains_when_one_is_unknown(program: Path) -> None:
    done = run_cli("serve", "--dir", str(program), "--stack", STACK, "--domain", "nope.example")
    assert done.returncode == 2
    assert "no domain 'nope.example' (domains: api.example.com, www.example.com)" in done.stdout
    done = run_cli("serve", "greeter", "--dir", str(program), "--stack", STACK, "--domain", "x")
    assert done.returncode == 2
    assert "drop a function's name" in done.stdout

"""The provisioning API (docs/openapi.yaml) over real HTTP against the stack's salond:
every route, every status, every input error with the field it names.

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_api.py
"""
from __future__ import annotations

import uuid
from typing import Any, Callable, Iterator

import pytest
import requests

from lib.http import SalondHttp

PROBLEM = "application/problem+json"


@pytest.fixture
def user_domain(stack: dict[str, str]) -> str:
    return stack["SALON_USER_DOMAIN"]


@pytest.fixture
def project(http: SalondHttp) -> Iterator[Callable[[], str]]:
    """project() -> a fresh project id; every id handed out is deleted after the test."""
    made: list[str] = []

    def make() -> str:
        pid = f"t-{uuid.uuid4().hex[:12]}"
        made.append(pid)
        return pid

    yield make
    for pid in made:
        http.delete(f"/api/v1/projects/{pid}")


def body(domain: str, **overrides: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "name": "Kitchen redesign",
        "description": "Two walls and a window",
        "members": [
            {"jid": f"alice@{domain}", "name": "Alice", "email": "alice@example.com",
             "role": "client"},
            {"jid": f"bob@{domain}", "name": "Bob (designer)", "role": "designer"},
            {"jid": f"carol@{domain}", "name": "Carol", "role": "staff"},
        ],
    }
    b.update(overrides)
    return b


def url(pid: str) -> str:
    return f"/api/v1/projects/{pid}"


def assert_problem(r: requests.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith(PROBLEM), r.headers
    p = r.json()
    assert p["status"] == status and p["title"] and p["type"] == "about:blank", p
    if field is None:
        assert "field" not in p, p
    else:
        assert p.get("field") == field, p
    return p


# --- the happy paths ---------------------------------------------------------------------


def test_put_creates_then_updates(http: SalondHttp, project: Callable[[], str],
                                  user_domain: str, stack: dict[str, str]) -> None:
    pid = project()
    r = http.put(url(pid), json=body(user_domain))
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Location"] == url(pid)
    p = r.json()
    assert p["id"] == pid
    assert p["room_jid"] == f"{pid}@{stack['SALON_COMPONENT_DOMAIN']}"
    assert p["name"] == "Kitchen redesign" and p["description"] == "Two walls and a window"
    by_jid = {m["jid"]: m for m in p["members"]}
    assert by_jid[f"alice@{user_domain}"] == {
        "jid": f"alice@{user_domain}", "name": "Alice", "email": "alice@example.com",
        "role": "client", "affiliation": "member"}
    assert by_jid[f"bob@{user_domain}"]["affiliation"] == "member"
    assert by_jid[f"carol@{user_domain}"]["affiliation"] == "owner"
    assert p["xmpp_affiliations"] == []

    r = http.put(url(pid), json=body(user_domain, name="Renamed", members=[
        {"jid": f"carol@{user_domain}", "name": "Carol", "role": "staff"}]))
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Renamed"
    assert [m["jid"] for m in r.json()["members"]] == [f"carol@{user_domain}"]


def test_put_is_idempotent(http: SalondHttp, project: Callable[[], str], user_domain: str) -> None:
    pid = project()
    first = http.put(url(pid), json=body(user_domain))
    second = http.put(url(pid), json=body(user_domain))
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()


def test_get_answers_what_put_stored(http: SalondHttp, project: Callable[[], str],
                                     user_domain: str) -> None:
    pid = project()
    put = http.put(url(pid), json=body(user_domain))
    r = http.get(url(pid))
    assert r.status_code == 200, r.text
    assert r.json() == put.json()


def test_get_answer_can_be_put_back(http: SalondHttp, project: Callable[[], str],
                                    user_domain: str) -> None:
    pid = project()
    stored = http.put(url(pid), json=body(user_domain)).json()
    r = http.put(url(pid), json=stored)
    assert r.status_code == 200, r.text
    assert r.json() == stored


def test_jids_are_normalised(http: SalondHttp, project: Callable[[], str], user_domain: str) -> None:
    pid = project()
    r = http.put(url(pid), json=body(user_domain, members=[
        {"jid": f"Alice@{user_domain.upper()}", "name": "Alice", "role": "client"}]))
    assert r.status_code == 201, r.text
    assert r.json()["members"][0]["jid"] == f"alice@{user_domain}"


def test_delete_then_gone(http: SalondHttp, project: Callable[[], str], user_domain: str) -> None:
    pid = project()
    assert http.put(url(pid), json=body(user_domain)).status_code == 201
    r = http.delete(url(pid))
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_problem(http.get(url(pid)), 404)
    assert_problem(http.delete(url(pid)), 404)
    # The id can be provisioned again.
    assert http.put(url(pid), json=body(user_domain)).status_code == 201


def test_unknown_project_is_404(http: SalondHttp, project: Callable[[], str]) -> None:
    pid = project()
    assert_problem(http.get(url(pid)), 404)
    assert_problem(http.delete(url(pid)), 404)


# --- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic abc", "Bearer "])
def test_wrong_or_missing_token_is_401(http: SalondHttp, project: Callable[[], str],
                                       user_domain: str, method: str,
                                       authorization: str | None) -> None:
    pid = project()
    headers = {"Authorization": authorization} if authorization else {}
    r = http.request(method, url(pid), auth=False, headers=headers, json=body(user_domain))
    assert_problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(http.get(url(pid)), 404)  # nothing was created


def test_token_is_not_a_prefix_match(http: SalondHttp, project: Callable[[], str]) -> None:
    assert http.api_token
    r = http.get(url(project()), auth=False,
                 headers={"Authorization": f"Bearer {http.api_token}x"})
    assert_problem(r, 401)
    r = http.get(url(project()), auth=False,
                 headers={"Authorization": f"Bearer {http.api_token[:-1]}"})
    assert_problem(r, 401)


@pytest.mark.slow
def test_no_configured_token_disables_the_api(salond_factory: Callable[..., Any],
                                              free_port: Callable[[], int]) -> None:
    # Its own salond without any api_token; pointed at a closed component port so that it does
    # not compete with the stack's salond for the component domain (HTTP works regardless).
    proc = salond_factory(drop={"http": ["api_token", "api_token_env", "api_token_file"]},
                          component={"server_port": free_port()})
    proc.wait_http(proc.http_url, "/healthz", 200)
    for method in ("PUT", "GET", "DELETE"):
        r = requests.request(method, f"{proc.http_url}/api/v1/projects/p", timeout=5,
                             headers={"Authorization": "Bearer anything"}, json={})
        p = assert_problem(r, 503)
        assert p["detail"] == "API disabled: no http.api_token configured"


# --- the project id ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
@pytest.mark.parametrize("pid", ["UPPER", "a%40b", "with%20space", "x" * 65, "-dash-first",
                                 "caf%C3%A9", "a%2Fb"])
def test_invalid_project_id_is_400(http: SalondHttp, user_domain: str, method: str,
                                   pid: str) -> None:
    r = http.request(method, url(pid), json=body(user_domain))
    assert_problem(r, 400, "id")


def test_longest_project_id(http: SalondHttp, project: Callable[[], str], user_domain: str) -> None:
    pid = project()
    pid = pid + "x" * (64 - len(pid))
    try:
        assert http.put(url(pid), json=body(user_domain)).status_code == 201
    finally:
        http.delete(url(pid))


# --- the body ----------------------------------------------------------------------------


def member(domain: str, local: str, name: str, role: str = "client", **kw: Any) -> dict[str, Any]:
    return {"jid": f"{local}@{domain}", "name": name, "role": role, **kw}


BAD_BODIES: list[tuple[str, Callable[[str], Any], str | None]] = [
    ("not json", lambda d: "{", None),
    ("not an object", lambda d: [], None),
    ("name missing", lambda d: {"members": []}, "name"),
    ("name empty", lambda d: {"name": "", "members": []}, "name"),
    ("name blank", lambda d: {"name": "   ", "members": []}, "name"),
    ("name not a string", lambda d: {"name": 5, "members": []}, "name"),
    ("name too long", lambda d: {"name": "n" * 201, "members": []}, "name"),
    ("description too long", lambda d: {"name": "n", "description": "d" * 4001, "members": []},
     "description"),
    ("members missing", lambda d: {"name": "n"}, "members"),
    ("members not an array", lambda d: {"name": "n", "members": {"jid": "a@b"}}, "members"),
    ("member not an object", lambda d: {"name": "n", "members": [member(d, "a", "A"), "b"]},
     "members[1]"),
    ("jid missing", lambda d: {"name": "n", "members": [{"name": "A", "role": "client"}]},
     "members[0].jid"),
    ("jid invalid", lambda d: {"name": "n", "members": [member(d, "a", "A"),
                                                       member(d, "b c", "B")]}, "members[1].jid"),
    ("jid not bare", lambda d: {"name": "n", "members": [
        {"jid": f"a@{d}/phone", "name": "A", "role": "client"}]}, "members[0].jid"),
    ("jid without user", lambda d: {"name": "n", "members": [
        {"jid": d, "name": "A", "role": "client"}]}, "members[0].jid"),
    ("jid duplicate", lambda d: {"name": "n", "members": [member(d, "a", "A"),
                                                         member(d, "A", "B")]}, "members[1].jid"),
    ("member name missing", lambda d: {"name": "n", "members": [
        {"jid": f"a@{d}", "role": "client"}]}, "members[0].name"),
    ("member name too long", lambda d: {"name": "n", "members": [member(d, "a", "A" * 65)]},
     "members[0].name"),
    ("member name duplicate ignoring case", lambda d: {"name": "n", "members": [
        member(d, "a", "Alice"), member(d, "b", "ALICE")]}, "members[1].name"),
    ("role missing", lambda d: {"name": "n", "members": [{"jid": f"a@{d}", "name": "A"}]},
     "members[0].role"),
    ("role unknown", lambda d: {"name": "n", "members": [member(d, "a", "A", role="boss")]},
     "members[0].role"),
    ("role not a string", lambda d: {"name": "n", "members": [member(d, "a", "A", role=1)]},
     "members[0].role"),
    ("email invalid", lambda d: {"name": "n", "members": [member(d, "a", "A", email="nope")]},
     "members[0].email"),
]


@pytest.mark.parametrize("make,field", [(m, f) for _, m, f in BAD_BODIES],
                         ids=[n for n, _, _ in BAD_BODIES])
def test_bad_body_is_400_naming_the_field(http: SalondHttp, project: Callable[[], str],
                                          user_domain: str, make: Callable[[str], Any],
                                          field: str | None) -> None:
    pid = project()
    payload = make(user_domain)
    if isinstance(payload, str):
        r = http.put(url(pid), data=payload, headers={"Content-Type": "application/json"})
    else:
        r = http.put(url(pid), json=payload)
    assert_problem(r, 400, field)
    assert_problem(http.get(url(pid)), 404)  # nothing was created


def test_bad_update_leaves_the_project_unchanged(http: SalondHttp, project: Callable[[], str],
                                                 user_domain: str) -> None:
    pid = project()
    stored = http.put(url(pid), json=body(user_domain)).json()
    bad = body(user_domain)
    bad["members"][1]["role"] = "boss"
    assert_problem(http.put(url(pid), json=bad), 400, "members[1].role")
    assert http.get(url(pid)).json() == stored


def test_body_too_large_is_413(http: SalondHttp, project: Callable[[], str]) -> None:
    r = http.put(url(project()), data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text[:300]


# --- operations --------------------------------------------------------------------------


def test_healthz(http: SalondHttp) -> None:
    r = http.get("/healthz", auth=False)
    assert r.status_code == 200 and r.text.strip() == "ok"


def test_readyz(http: SalondHttp) -> None:
    http.wait_status("/readyz", 200)
    r = http.get("/readyz", auth=False)
    assert r.json()["status"] == "ready"
    assert r.json()["checks"] == {"xmpp": "up", "postgresql": "up", "smtp": "up"}


def test_metrics(http: SalondHttp) -> None:
    r = http.get("/metrics", auth=False)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "salon_" in r.text

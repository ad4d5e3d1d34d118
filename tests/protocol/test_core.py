"""salond core (issue 2): the XEP-0114 link, the IQ guard, readiness and reliability.

Runs against the private stack (scripts/stack up) with Prosody or ejabberd and PostgreSQL.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest
import requests

from lib.stack import stack as stack_cmd
from lib.xmlutil import NS_DISCO_INFO, NS_PING, NS_STANZAS, error_condition, error_type

NS_VERSION = "jabber:iq:version"


def disco_info(client, to):
    return client.iq(f"<iq type='get' id='{client.new_id()}' to='{to}'>"
                     f"<query xmlns='{NS_DISCO_INFO}'/></iq>")


def metric(http_url: str, name: str) -> float:
    text = requests.get(http_url + "/metrics", timeout=5).text
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert m, f"{name} not in /metrics"
    return float(m.group(1))


def test_component_authenticated_and_ready(stack, http):
    r = http.get("/readyz", auth=False)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready"
    # Every dependency by name (the stack enables the email plugin: its SMTP server too), each
    # with its state, whether it is critical, and since when (issue 15).
    assert body["checks"] == {"xmpp": "up", "postgresql": "up", "smtp": "up"}
    assert body["down"] == [] and body["degraded"] == []
    assert body["details"]["xmpp"]["critical"] is True
    assert body["details"]["postgresql"]["critical"] is True
    assert body["details"]["smtp"]["critical"] is False
    for check in body["details"].values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", check["since"]), check
    assert metric(stack["SALON_HTTP_URL"], "salon_xmpp_link_up") == 1
    assert http.get("/healthz", auth=False).status_code == 200


def test_metrics_exposition(stack, http):
    r = http.get("/metrics", auth=False)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    for family in ("salon_xmpp_link_up", "salon_xmpp_reconnects_total", "salon_stanzas_in_total",
                   "salon_stanzas_out_total", "salon_iq_errors_sent_total"):
        assert f"# TYPE {family} " in text, family
    # Counters end in _total; every sample line is "name{labels} value".
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert re.match(r'^salon_[a-z0-9_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?([0-9.e+-]+|\+Inf)$',
                            line), line


def test_service_disco_info_from_a_client(stack, client_factory):
    c = client_factory()
    domain = stack["SALON_COMPONENT_DOMAIN"]
    reply = disco_info(c, domain)
    assert reply.get("type") == "result", reply
    assert reply.get("from") == domain
    query = reply.find(f"{{{NS_DISCO_INFO}}}query")
    identities = [(i.get("category"), i.get("type")) for i in query.findall(f"{{{NS_DISCO_INFO}}}identity")]
    assert ("conference", "text") in identities
    features = {f.get("var") for f in query.findall(f"{{{NS_DISCO_INFO}}}feature")}
    assert "http://jabber.org/protocol/muc" in features
    assert NS_DISCO_INFO in features


def test_ping_to_service(stack, client_factory):
    c = client_factory()
    domain = stack["SALON_COMPONENT_DOMAIN"]
    reply = c.iq(f"<iq type='get' id='{c.new_id()}' to='{domain}'><ping xmlns='{NS_PING}'/></iq>")
    assert reply.get("type") == "result"
    assert reply.get("from") == domain


@pytest.mark.parametrize("iq_type", ["get", "set"])
def test_unknown_iq_to_service_gets_error_with_right_from(stack, client_factory, iq_type):
    c = client_factory()
    domain = stack["SALON_COMPONENT_DOMAIN"]
    reply = c.iq(f"<iq type='{iq_type}' id='{c.new_id()}' to='{domain}'>"
                 f"<query xmlns='urn:example:unknown'/></iq>")
    assert reply.get("type") == "error"
    assert reply.get("from") == domain
    assert error_condition(reply) == "service-unavailable"
    assert error_type(reply) == "cancel"


def test_unknown_iq_to_missing_room_gets_error_with_right_from(stack, client_factory):
    c = client_factory()
    room = f"no-such-room@{stack['SALON_COMPONENT_DOMAIN']}"
    for payload in (f"<query xmlns='urn:example:unknown'/>", f"<query xmlns='{NS_DISCO_INFO}'/>"):
        reply = c.iq(f"<iq type='get' id='{c.new_id()}' to='{room}'>{payload}</iq>")
        assert reply.get("type") == "error"
        assert reply.get("from") == room
        assert error_condition(reply) == "item-not-found"


def test_unknown_iq_to_existing_room_gets_service_unavailable(stack, http, client_factory):
    project = f"core-{os.urandom(4).hex()}"
    c = client_factory()
    r = http.put(f"/api/v1/projects/{project}", json={
        "name": "Core test", "description": "",
        "members": [{"jid": c.bare, "name": "Alice", "email": "a@example.com", "role": "client"}]})
    assert r.status_code in (200, 201), r.text
    room = f"{project}@{stack['SALON_COMPONENT_DOMAIN']}"
    reply = c.iq(f"<iq type='get' id='{c.new_id()}' to='{room}'><query xmlns='urn:example:unknown'/></iq>")
    assert reply.get("type") == "error"
    assert reply.get("from") == room
    assert error_condition(reply) == "service-unavailable"


def test_iq_errors_are_counted(stack, client_factory):
    before = metric(stack["SALON_HTTP_URL"], "salon_iq_errors_sent_total")
    c = client_factory()
    c.iq(f"<iq type='get' id='{c.new_id()}' to='{stack['SALON_COMPONENT_DOMAIN']}'>"
         f"<query xmlns='urn:example:unknown'/></iq>")
    assert metric(stack["SALON_HTTP_URL"], "salon_iq_errors_sent_total") >= before + 1


def test_xmpp_server_restart_reconnects_within_2s(stack, http, client_factory):
    http.wait_status("/readyz", 200, timeout=10)
    reconnects = metric(stack["SALON_HTTP_URL"], "salon_xmpp_reconnects_total")
    stack_cmd("stop-xmpp")
    try:
        http.wait_status("/readyz", 503, timeout=10)
        body = http.get("/readyz", auth=False).json()
        assert body["down"] == ["xmpp"], body
    finally:
        stack_cmd("start-xmpp")
    took = http.wait_status("/readyz", 200, timeout=10, interval=0.02)
    assert took <= 2.0, f"salond took {took:.2f}s after the server was back"
    assert metric(stack["SALON_HTTP_URL"], "salon_xmpp_reconnects_total") > reconnects
    # And it serves again, end to end.
    c = client_factory()
    assert disco_info(c, stack["SALON_COMPONENT_DOMAIN"]).get("type") == "result"


def test_postgresql_down_makes_readyz_503_then_200(stack, http):
    http.wait_status("/readyz", 200, timeout=10)
    stack_cmd("stop-pg")
    try:
        http.wait_status("/readyz", 503, timeout=10)
        body = http.get("/readyz", auth=False).json()
        assert "postgresql" in body["down"], body
        assert http.get("/healthz", auth=False).status_code == 200  # alive all the same
    finally:
        stack_cmd("start-pg")
    http.wait_status("/readyz", 200, timeout=15)


def test_wrong_secret_is_fatal_with_reason(salond_factory):
    proc = salond_factory(component={"secret": "definitely-not-the-secret"})
    code = proc.wait(timeout=20)
    assert code == 2
    err = proc.stderr_text()
    assert "not-authorized" in err
    assert "definitely-not-the-secret" not in err + proc.stdout_text()


def test_check_config_reports_key_and_line(stack, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(open(stack["SALON_CONFIG"]).read() + "\n[component]\n")  # duplicate table
    bad2 = tmp_path / "bad2.toml"
    bad2.write_text("[component]\ndomain = \"rooms.localhost\"\nsecret = \"x\"\nsurprise = 1\n"
                    "[database]\nconninfo = \"host=/tmp\"\n")
    r = subprocess.run([stack["SALON_BIN"], "--check-config", str(bad2)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "bad2.toml:4" in r.stderr and "component.surprise" in r.stderr, r.stderr
    r = subprocess.run([stack["SALON_BIN"], "--check-config", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1 and r.stderr.strip(), r.stderr
    r = subprocess.run([stack["SALON_BIN"], "--check-config", stack["SALON_CONFIG"]], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout


def test_check_config_runs_the_plugins_validation(stack, tmp_path):
    """A bad key inside [plugins.archive] fails --check-config, as it would fail start-up."""
    for extra, key in (("surprise = 1", "plugins.archive.surprise"),
                       ("max_page = \"lots\"", "plugins.archive.max_page")):
        cfg = tmp_path / "plugin.toml"
        cfg.write_text("[component]\ndomain = \"rooms.localhost\"\nsecret = \"x\"\n"
                       "[database]\nconninfo = \"host=/tmp\"\n"
                       f"[plugins.archive]\nenabled = true\n{extra}\n")
        r = subprocess.run([stack["SALON_BIN"], "--check-config", str(cfg)], capture_output=True,
                           text=True)
        assert r.returncode == 1, (extra, r.stdout)
        assert "line 8" in r.stderr and key in r.stderr, r.stderr
        assert "OK" not in r.stdout
    # A disabled plugin's section is not the running config's concern.
    cfg.write_text("[component]\ndomain = \"rooms.localhost\"\nsecret = \"x\"\n"
                   "[database]\nconninfo = \"host=/tmp\"\n[plugins.archive]\nenabled = false\n")
    r = subprocess.run([stack["SALON_BIN"], "--check-config", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_sigterm_is_a_clean_exit_and_sighup_reloads(stack, salond_factory, free_port):
    # A second salond on the harness domain, so the stack's one keeps serving.
    proc = salond_factory(component={"domain": stack["SALON_HARNESS_DOMAIN"],
                                     "secret": stack["SALON_HARNESS_SECRET"],
                                     "server_port": int(stack["SALON_HARNESS_PORT"])},
                          log={"level": "info", "format": "json"})
    proc.wait_http(proc.http_url, "/readyz", 200, timeout=20)
    cfg = proc.config.read_text()
    proc.config.write_text(cfg.replace('level = "info"', 'level = "debug"'))
    proc.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "reloaded" not in proc.stderr_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "reloaded" in proc.stderr_text()
    proc.signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    # JSON log lines, one object per line.
    import json
    lines = [l for l in proc.stderr_text().splitlines() if l.strip()]
    assert lines and all(json.loads(l)["level"] for l in lines)


def test_dead_peer_is_detected_by_keepalive(stack, salond_factory):
    proc = salond_factory(component={"domain": stack["SALON_HARNESS_DOMAIN"],
                                     "secret": stack["SALON_HARNESS_SECRET"],
                                     "server_port": int(stack["SALON_HARNESS_PORT"]),
                                     "keepalive_interval_ms": 300, "keepalive_timeout_ms": 1500})
    proc.wait_http(proc.http_url, "/readyz", 200, timeout=20)
    # Read the pid now: an earlier test may have restarted the server.
    server_pid = int(open(stack["SALON_XMPP_PIDFILE"]).read().split()[0])
    os.kill(server_pid, signal.SIGSTOP)  # the server hangs: TCP stays up, nothing answers
    try:
        start = time.monotonic()
        proc.wait_http(proc.http_url, "/readyz", 503, timeout=10)
        assert time.monotonic() - start < 5
    finally:
        os.kill(server_pid, signal.SIGCONT)
    proc.wait_http(proc.http_url, "/readyz", 200, timeout=10)
    assert metric(proc.http_url, "salon_xmpp_keepalive_timeouts_total") >= 1
    assert "declaring the link dead" in proc.stderr_text()


def test_postgresql_down_at_start_waits_instead_of_dying(stack, salond_factory, free_port):
    dead = f"host=127.0.0.1 port={free_port()} dbname=salon user=salon connect_timeout=1"
    proc = salond_factory(component={"domain": stack["SALON_HARNESS_DOMAIN"],
                                     "secret": stack["SALON_HARNESS_SECRET"],
                                     "server_port": int(stack["SALON_HARNESS_PORT"])},
                          database={"conninfo": dead})
    proc.wait_http(proc.http_url, "/healthz", 200, timeout=20)
    r = proc.wait_http(proc.http_url, "/readyz", 503, timeout=10)
    assert "postgresql" in r.json()["down"]
    time.sleep(2)  # several retry rounds
    assert proc.running()
    assert requests.get(proc.http_url + "/readyz", timeout=5).status_code == 503


def test_failing_migration_exits_3_and_leaves_the_database_as_it_was(stack, salond_factory,
                                                                     tmp_path, monkeypatch):
    import secrets as _secrets
    db = f"mig_{_secrets.token_hex(4)}"
    admin = stack["SALON_PG_ADMIN_CONNINFO"]
    subprocess.run(["psql", "-qAt", admin, "-c", f"CREATE DATABASE {db} OWNER salon"], check=True)
    try:
        schemas = tmp_path / "schemas"
        schemas.mkdir()
        root = os.path.join(os.path.dirname(__file__), "..", "..", "schemas")
        first = sorted(f for f in os.listdir(root) if f.endswith(".sql"))[0]
        (schemas / first).write_text(open(os.path.join(root, first)).read())
        (schemas / "900_broken.sql").write_text("CREATE TABLE half_done(x int);\nTHIS IS NOT SQL;\n")
        monkeypatch.setenv("SALON_SCHEMA_DIR", str(schemas))
        conninfo = stack["SALON_PG_CONNINFO"].replace("dbname=salon", f"dbname={db}")
        proc = salond_factory(component={"domain": stack["SALON_HARNESS_DOMAIN"],
                                         "secret": stack["SALON_HARNESS_SECRET"],
                                         "server_port": int(stack["SALON_HARNESS_PORT"])},
                              database={"conninfo": conninfo})
        assert proc.wait(timeout=30) == 3
        assert "900_broken.sql" in proc.stderr_text()
        out = subprocess.run(["psql", "-qAt", conninfo, "-c",
                              "SELECT max(version) FROM schema_version; "
                              "SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'"],
                             check=True, capture_output=True, text=True).stdout.split()
        assert out == [str(int(first[:3])), "0"], out
    finally:
        subprocess.run(["psql", "-qAt", admin, "-c", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"])

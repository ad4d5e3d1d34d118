"""Self-tests of the test rig against the running stack: if these fail, the stack or the rig
is broken, not salond."""
from __future__ import annotations

import subprocess

import pytest
import requests

from lib.client import AuthFailed
from lib.component import ComponentAuthError, ComponentHarness
from lib.salond import write_config
from lib.stack import Account, load_env
from lib.xmlutil import NS_PING, attr, error_condition, is_kind, local, reply_to


def test_stack_env_is_complete(stack):
    assert stack["SALON_XMPP_SERVER"] in ("prosody", "ejabberd")
    for key in ("SALON_C2S_PORT", "SALON_COMPONENT_PORT", "SALON_XMPP_HTTP_PORT", "SALON_PG_PORT",
                "SALON_HTTP_PORT", "SALON_HARNESS_PORT"):
        assert 1024 < int(stack[key]) < 65536, key
    assert stack["SALON_COMPONENT_DOMAIN"] == "rooms.localhost"
    assert stack["SALON_USER_DOMAIN"] == "localhost"
    assert stack["SALON_WEBSOCKET_URL"].startswith("ws://127.0.0.1:")


def test_stack_env_is_valid_shell(stack):
    """stack.env is sourced by shells too: bash must see the same values as our parser."""
    path = f"{stack['SALON_RUN_DIR']}/stack.env"
    out = subprocess.run(["bash", "-c", f"set -a; . '{path}'; env -0"], capture_output=True, check=True)
    shell = dict(item.split("=", 1) for item in out.stdout.decode().split("\0") if "=" in item)
    now = load_env()   # not the session's `stack`: restarts by other tests change the PIDs
    assert {k: shell.get(k) for k in now} == now
    assert set(now) >= set(stack)


def test_harness_authenticates(component_factory):
    comp = component_factory()
    assert comp.stream_id


def test_harness_wrong_secret_is_refused(stack):
    comp = ComponentHarness(stack["SALON_XMPP_HOST"], int(stack["SALON_HARNESS_PORT"]),
                            stack["SALON_HARNESS_DOMAIN"], "wrong-secret")
    with pytest.raises(ComponentAuthError) as err:
        comp.connect()
    assert err.value.condition == "not-authorized"


def test_salond_domain_accepts_the_stack_secret(stack, salond_running, component_factory):
    if salond_running:
        pytest.skip("salond holds the component domain")
    comp = component_factory(domain=stack["SALON_COMPONENT_DOMAIN"])
    assert comp.stream_id


def test_client_pings_its_server(client_factory, stack):
    client = client_factory()
    assert client.jid.startswith(client.bare + "/")
    reply = client.iq(f"<iq type='get' id='p1' to={attr(stack['SALON_USER_DOMAIN'])}>"
                      f"<ping xmlns='{NS_PING}'/></iq>")
    assert reply.get("type") == "result", error_condition(reply)
    assert reply.get("from") == stack["SALON_USER_DOMAIN"]


def test_wrong_password_is_refused(client_factory, new_user):
    account = new_user()
    with pytest.raises(AuthFailed):
        client_factory(Account(account.user, account.domain, "not-" + account.password))


def test_client_and_harness_exchange_stanzas(client_factory, component_factory, stack):
    comp = component_factory()
    client = client_factory(resource="rig")
    target = f"svc@{stack['SALON_HARNESS_DOMAIN']}"
    client.send(f"<iq type='get' id='x1' to={attr(target)}><ping xmlns='{NS_PING}'/></iq>")
    iq = comp.wait_for(is_kind("iq"), what="the routed iq")
    assert iq.get("from") == client.jid and iq.get("to") == target
    comp.send(f"<iq type='result' id='x1' from={attr(target)} to={attr(client.jid)}/>")
    reply = client.wait_for(reply_to("x1"))
    assert reply.get("type") == "result" and reply.get("from") == target
    comp.send(f"<message from={attr(target)} to={attr(client.jid)}><body>hi</body></message>")
    msg = client.wait_for(is_kind("message"))
    assert [local(c.tag) for c in msg] == ["body"] and msg[0].text == "hi"
    client.expect_nothing(is_kind("message"), within=0.3)


def test_two_clients_exchange_a_message(client_factory):
    a, b = client_factory(), client_factory()
    a.send(f"<message to={attr(b.jid)} type='chat'><body>ping</body></message>")
    msg = b.wait_for(is_kind("message"))
    assert msg.get("from") == a.jid


def test_http_endpoints_of_the_xmpp_server_answer(stack):
    bosh = requests.get(stack["SALON_BOSH_URL"], timeout=5)
    assert bosh.status_code < 500
    ws = stack["SALON_WEBSOCKET_URL"].replace("ws://", "http://", 1)
    assert requests.get(ws, timeout=5).status_code < 500


def test_write_config_replaces_adds_and_drops(tmp_path):
    base = tmp_path / "base.toml"
    base.write_text('[component]\ndomain = "a"\nsecret = "s"\n\n[http]\nlisten = "x"\napi_token = "t"\n')
    out = write_config(tmp_path, base, name="out.toml", drop={"http": ["api_token"]},
                       component={"secret": "wrong", "server_port": 1}, log={"level": "debug"})
    assert out.read_text() == ('[component]\ndomain = "a"\nsecret = "wrong"\n\nserver_port = 1\n'
                               '[http]\nlisten = "x"\n\n[log]\nlevel = "debug"\n')

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from server.accounts.errors import SmsDeliveryFailed, WechatCodeInvalid
from server.crypto import Vault
from server.notify.sms import HttpSender, OutboxSender, make_sender
from server.wechat import DevWechatExchanger, HttpWechatExchanger, make_exchanger


class Gateway(BaseHTTPRequestHandler):
    received: ClassVar[list[Any]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.received.append(json.loads(body))
        self.send_response(Gateway.status)
        self.end_headers()

    def do_GET(self) -> None:
        code = self.path.split("js_code=")[1].split("&")[0]
        payload = (
            {"openid": f"o-{code}", "session_key": "k"} if code != "bad" else {"errcode": 40029}
        )
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Gateway.received, Gateway.status = [], 200
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_sms_sender_posts_json(gateway: str) -> None:
    HttpSender(gateway + "/send").send(None, "13612341560", "验证码123456")  # type: ignore[arg-type]
    assert Gateway.received == [{"phone": "13612341560", "text": "验证码123456"}]


def test_http_sms_sender_failures_are_typed(gateway: str) -> None:
    Gateway.status = 500
    with pytest.raises(SmsDeliveryFailed):
        HttpSender(gateway + "/send").send(None, "13612341560", "x")  # type: ignore[arg-type]
    with pytest.raises(SmsDeliveryFailed):
        HttpSender("http://127.0.0.1:9/none", timeout=0.5).send(None, "13612341560", "x")  # type: ignore[arg-type]


def test_the_sender_is_chosen_by_url() -> None:
    assert isinstance(make_sender("", Vault("k")), OutboxSender)
    assert isinstance(make_sender("http://gw", Vault("k")), HttpSender)


def test_http_wechat_exchanger(gateway: str) -> None:
    wx = HttpWechatExchanger(gateway, "app", "secret")
    assert wx.openid("abc") == "o-abc"
    with pytest.raises(WechatCodeInvalid):
        wx.openid("bad")
    with pytest.raises(WechatCodeInvalid):
        HttpWechatExchanger("http://127.0.0.1:9", "a", "s", timeout=0.5).openid("abc")
    assert isinstance(make_exchanger(gateway, "a", "s"), HttpWechatExchanger)


def test_dev_wechat_exchanger_is_stable_and_checks_the_code() -> None:
    wx = make_exchanger("", "", "")
    assert isinstance(wx, DevWechatExchanger)
    assert wx.openid("code-1") == wx.openid("code-1") != wx.openid("code-2")
    with pytest.raises(WechatCodeInvalid):
        wx.openid("")

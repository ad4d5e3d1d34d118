"""salond's HTTP side: a requests session bound to SALON_HTTP_URL, with the API token."""
from __future__ import annotations

import time
from typing import Any, Optional

import requests


class SalondHttp:
    def __init__(self, base_url: str, api_token: Optional[str] = None, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.api_token = api_token

    def request(self, method: str, path: str, auth: bool = True, **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if auth and self.api_token:
            headers.setdefault("Authorization", f"Bearer {self.api_token}")
        kw.setdefault("timeout", self.timeout)
        return self.session.request(method, self.base_url + path, headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def status(self, path: str) -> int:
        """The status of GET path, or 0 when nothing answers."""
        try:
            return self.get(path, auth=False, timeout=2).status_code
        except requests.RequestException:
            return 0

    def wait_status(self, path: str, status: int, timeout: float = 10.0, interval: float = 0.05) -> float:
        """Polls GET path until it answers `status`; returns the seconds it took."""
        start = time.monotonic()
        deadline = start + timeout
        seen = None
        while True:
            seen = self.status(path)
            if seen == status:
                return time.monotonic() - start
            if time.monotonic() >= deadline:
                raise AssertionError(f"GET {self.base_url}{path}: wanted {status} within {timeout}s, "
                                     f"last status {seen}")
            time.sleep(interval)

"""Bounded JSON GETs for hub listings: a time limit, a size limit, and errors that say which hub."""

from __future__ import annotations

import json
from typing import Any

import requests

from ainimal_zookeeper.errors import NotFound, Unavailable

#: A listing page larger than this is refused (a hub answering garbage must not fill memory).
MAX_JSON_BYTES = 8 * 1024 * 1024


class JsonClient:
    """GETs JSON from one base URL; counts requests (tests see cache hits do none)."""

    def __init__(self, base_url: str, what: str, headers: dict[str, str] | None = None, timeout: float = 30.0) -> None:
        self.base_url, self.what, self.timeout = base_url.rstrip("/"), what, timeout
        self.headers = dict(headers or {})
        self.calls = 0

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """The decoded JSON at base_url + path; NotFound on 404, Unavailable on anything else wrong."""
        self.calls += 1
        url = self.base_url + path
        try:
            with requests.get(url, params=params, headers=self.headers, timeout=self.timeout, stream=True) as response:
                if response.status_code == 404:
                    raise NotFound(f"{self.what}: {path} does not exist")
                if response.status_code >= 400:
                    raise Unavailable(f"{self.what}: {path} answered HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_content(65536):
                    body += chunk
                    if len(body) > MAX_JSON_BYTES:
                        raise Unavailable(f"{self.what}: {path} answered more than {MAX_JSON_BYTES} bytes")
        except requests.RequestException as exc:
            raise Unavailable(f"{self.what}: cannot reach {self.base_url}: {type(exc).__name__}") from None
        try:
            return json.loads(body)
        except ValueError:
            raise Unavailable(f"{self.what}: {path} did not answer JSON") from None

"""How ``cmdb serve`` (and the tests' live server) runs the app under uvicorn.

Forwarded headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only from
the addresses in ``CMDB_TRUSTED_PROXIES``; uvicorn's own default would believe them
from any process on the machine (127.0.0.1), and let a local caller pick the address
every throttle is keyed on. With no trusted proxy, the caller is the address that
connected, whatever the headers say.
"""

from __future__ import annotations

from typing import Any

import uvicorn

from cmdb.settings import Settings


def server_config(app: Any, settings: Settings, host: str, port: int,
                  **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` with the proxies ``settings`` trusts."""
    trusted = [str(network) for network in settings.trusted_proxies]
    return uvicorn.Config(app, host=host, port=port, proxy_headers=bool(trusted),
                          forwarded_allow_ips=trusted, server_header=False, **options)

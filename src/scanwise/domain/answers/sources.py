"""Which publishers patient answers may cite, and the answer's source list grouped by publisher.

The allowlist is data (``knowledge/answers/source-hosts.yaml``): a source is authoritative when
its URL's host is one of the listed domains or a subdomain of one. Anything else (blogs, news,
vendor and imaging-centre pages, document-sharing copies, aggregators, unknown hosts) is not.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field

from scanwise.domain.kb import DATA_DIR, KnowledgeBaseError, Source, load_yaml, top_level_list, validate_entry

HOSTS_FILE = DATA_DIR / "answers" / "source-hosts.yaml"

HostKind = Literal["guideline body", "professional society", "government", "journal", "cancer centre"]


class AllowedHost(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: str = Field(pattern=r"^[a-z0-9.-]+\.[a-z]{2,}$")
    publisher: str
    kind: HostKind


@cache
def allowed_hosts(path: Path = HOSTS_FILE) -> tuple[AllowedHost, ...]:
    hosts = tuple(validate_entry(AllowedHost, item, path, f"hosts[{i}]")
                  for i, item in enumerate(top_level_list(load_yaml(path), path, "hosts")))
    if len({h.domain for h in hosts}) != len(hosts):
        raise KnowledgeBaseError(f"{path.name}: a domain is listed twice")
    return hosts


def host_of(url: str | None) -> str | None:
    host = urlparse(url or "").hostname
    return host.rstrip(".").lower() if host else None


def allowed_host(url: str | None) -> AllowedHost | None:
    """The allowlist entry a URL falls under, or None when its host is not on the list."""
    host = host_of(url)
    if host is None:
        return None
    for entry in allowed_hosts():
        if host == entry.domain or host.endswith("." + entry.domain):
            return entry
    return None


def is_authoritative(source: Source) -> bool:
    return allowed_host(source.url) is not None

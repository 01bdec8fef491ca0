"""Who may call the CDS Hooks service: the JWT bearer rules of CDS Hooks 2.0, deny by default.

Every call (discovery included) must carry ``Authorization: Bearer <JWT>`` where

- the header's ``alg`` is ES384 or RS384 (never ``none``, never HMAC) and its ``kid`` names a
  key in the JWK Set of the token's issuer;
- ``iss`` is on the trust list, ``aud`` is exactly the URL being called (a string or a list
  holding it), ``exp`` is in the future, ``iat`` is not in the future, and ``jti`` has not
  been seen before while the token that carried it could still be used (replay cache).

The trust list is a JSON file (``scanwise serve --cds-trust FILE`` or ``$SCANWISE_CDS_TRUST``)::

    {"issuers": [{"iss": "https://ehr.example.org", "jwks": {"keys": [...]}},
                 {"iss": "https://other.example.org", "jwks_url": "https://other.example.org/jwks"}]}

Remote key sets are fetched over HTTPS only, cached, and fetched again when a token names a
``kid`` the cached set lacks (at most once per issuer every ``REFRESH_MIN_S`` seconds). A
token's ``jku`` header is never followed: keys come only from the trust list. Any failure is
a bare 401; the reason goes to the log by rule name only, never the token.
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt import PyJWK, PyJWKSet
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

log = logging.getLogger("scanwise.cds")

ENV_VAR = "SCANWISE_CDS_TRUST"
ALGORITHMS = ("ES384", "RS384")
#: The key type each allowed algorithm needs (a key of another type is never used).
KEY_TYPES = {"ES384": "EC", "RS384": "RSA"}
#: Allowance for clocks that run slightly ahead of ours (``iat``), in seconds.
CLOCK_SKEW_S = 10
JWKS_TTL_S = 3600.0
REFRESH_MIN_S = 30.0
FETCH_TIMEOUT_S = 3.0


class TrustError(ValueError):
    """The trust file cannot be used; the message names the file and the problem."""


class Denied(Exception):
    """A call that may not proceed. ``rule`` names the broken rule for the log only."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


class _Issuer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iss: str
    jwks: dict[str, Any] | None = None
    jwks_url: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> _Issuer:
        if (self.jwks is None) == (self.jwks_url is None):
            raise ValueError("give exactly one of jwks or jwks_url")
        if self.jwks_url is not None and not self.jwks_url.startswith("https://"):
            raise ValueError("jwks_url must be an https:// URL")
        if self.jwks is not None and not isinstance(self.jwks.get("keys"), list):
            raise ValueError("jwks must be a JWK Set: an object with a keys list")
        if not self.iss.strip():
            raise ValueError("iss must not be empty")
        return self


class _TrustFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    issuers: list[_Issuer]


@dataclass
class _KeySet:
    keys: dict[str, PyJWK] = field(default_factory=dict)
    fetched_at: float = 0.0
    last_attempt: float = -1e9


def _keys_of(jwks: dict[str, Any]) -> dict[str, PyJWK]:
    """The set's keys by kid; keys without a kid, or that PyJWT cannot read, are left out."""
    out: dict[str, PyJWK] = {}
    for raw in jwks.get("keys") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("kid"), str):
            continue
        try:
            one = PyJWKSet.from_dict({"keys": [raw]}).keys
        except jwt.PyJWTError:
            continue
        if one:
            out[raw["kid"]] = one[0]
    return out


class TrustList:
    """Trusted issuers and their keys. Thread-safe; remote sets are fetched through ``get``."""

    def __init__(self, issuers: list[_Issuer], *, get: Callable[[str], dict[str, Any]] | None = None) -> None:
        self._issuers = {i.iss: i for i in issuers}
        self._sets: dict[str, _KeySet] = {}
        for i in issuers:
            if i.jwks is not None:
                self._sets[i.iss] = _KeySet(_keys_of(i.jwks), fetched_at=float("inf"))
        self._get = get or _https_get_json
        self._lock = threading.Lock()
        #: Some issuer's keys come from a URL: finding a key may mean fetching it.
        self.remote = any(i.jwks_url is not None for i in issuers)

    @classmethod
    def load(cls, path: str | Path, **kw: Any) -> TrustList:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TrustError(f"{p}: cannot be read as JSON: {exc}") from exc
        try:
            parsed = _TrustFile.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise TrustError(f"{p}: {where}: {first['msg']}") from exc
        return cls(parsed.issuers, **kw)

    def trusts(self, iss: str) -> bool:
        return iss in self._issuers

    def key(self, iss: str, kid: str) -> PyJWK | None:
        """The issuer's key named ``kid``, fetching the remote set when it is stale or lacks it."""
        issuer = self._issuers.get(iss)
        if issuer is None:
            return None
        with self._lock:
            ks = self._sets.setdefault(iss, _KeySet())
            now = time.monotonic()
            stale = now - ks.fetched_at > JWKS_TTL_S
            missing = kid not in ks.keys
            if issuer.jwks_url and (stale or missing) and now - ks.last_attempt >= REFRESH_MIN_S:
                ks.last_attempt = now
                try:
                    ks.keys = _keys_of(self._get(issuer.jwks_url))
                    ks.fetched_at = now
                except (httpx.HTTPError, ValueError) as exc:
                    log.warning("cds: JWKS fetch failed for a trusted issuer: %s", type(exc).__name__)
            return ks.keys.get(kid)


def _fits(key: PyJWK, alg: str) -> bool:
    """An RSA key for RS384, a P-384 key for ES384, and a key's own ``alg`` (if given) agrees."""
    data: dict[str, Any] = getattr(key, "_jwk_data", {})
    if data.get("kty") != KEY_TYPES[alg] or data.get("alg", alg) != alg:
        return False
    return alg != "ES384" or data.get("crv") == "P-384"


def _https_get_json(url: str) -> dict[str, Any]:
    if not url.startswith("https://"):
        raise ValueError("JWKS URLs must be https")
    resp = httpx.get(
        url, timeout=FETCH_TIMEOUT_S, follow_redirects=False, headers={"Accept": "application/json"}
    )
    resp.raise_for_status()
    data = resp.json()
    if not isinstance(data, dict):
        raise ValueError("a JWK Set is a JSON object")
    return data


class ReplayCache:
    """``(iss, jti)`` pairs seen, each kept until its token expires.

    Expired pairs leave in order of expiry (a heap beside the dict), a few at a time as they
    fall due: every pair left is still valid, so a pair present is a replay. (Sweeping the
    whole dict once it held more than a thousand pairs, as before, cost every call a pass over
    all the tokens of the last two minutes: at 200 calls/s, 20,000 of them.)
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._expiry: list[tuple[float, tuple[str, str]]] = []
        self._lock = threading.Lock()

    def first_use(self, iss: str, jti: str, exp: float) -> bool:
        now = time.time()
        key = (iss, jti)
        with self._lock:
            due = self._expiry
            while due and due[0][0] <= now:
                when, old = heapq.heappop(due)
                if self._seen.get(old) == when:
                    del self._seen[old]
            if key in self._seen:
                return False
            self._seen[key] = exp
            heapq.heappush(due, (exp, key))
            return True


class Verifier:
    """Checks one bearer token against the URL called. ``trust=None`` denies every call."""

    def __init__(self, trust: TrustList | None, *, allow_unsigned: bool = False) -> None:
        self.trust = trust
        self.allow_unsigned = allow_unsigned
        self.replay = ReplayCache()

    @property
    def may_fetch(self) -> bool:
        """Whether a check may wait on the network (an issuer's key set given by URL)."""
        return self.trust is not None and self.trust.remote

    def check(self, authorization: str | None, audience: str) -> dict[str, Any] | None:
        """The verified claims, or None in unsigned development mode. Raises Denied."""
        if self.allow_unsigned:
            return None
        if self.trust is None:
            raise Denied("no trust list")
        if not authorization or not authorization.startswith("Bearer "):
            raise Denied("no bearer token")
        token = authorization[len("Bearer ") :].strip()
        try:  # header and claims read once to find the key; verified below with it
            parts = jwt.decode_complete(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Denied("malformed token") from exc
        header, unverified = parts["header"], parts["payload"]
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise Denied("algorithm not allowed")
        if not isinstance(kid, str) or not kid:
            raise Denied("no kid")
        iss = unverified.get("iss")
        if not isinstance(iss, str) or not self.trust.trusts(iss):
            raise Denied("issuer not trusted")
        key = self.trust.key(iss, kid)
        if key is None:
            raise Denied("kid not in the issuer's key set")
        if not _fits(key, alg):
            raise Denied("key does not fit the algorithm")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=audience,
                issuer=iss,
                options={"require": ["iss", "aud", "exp", "iat", "jti"], "verify_iat": False},
            )
        except jwt.InvalidAudienceError as exc:
            raise Denied("aud is not the URL called") from exc
        except jwt.ExpiredSignatureError as exc:
            raise Denied("expired") from exc
        except jwt.PyJWTError as exc:
            raise Denied(f"signature or claims invalid ({type(exc).__name__})") from exc
        aud = claims["aud"]
        if not (aud == audience or (isinstance(aud, list) and audience in aud)):
            raise Denied("aud is not the URL called")
        iat, exp, jti = claims["iat"], claims["exp"], claims["jti"]
        if not isinstance(iat, int | float) or iat > time.time() + CLOCK_SKEW_S:
            raise Denied("iat in the future")
        if not isinstance(jti, str) or not jti:
            raise Denied("no jti")
        if not self.replay.first_use(iss, jti, float(exp)):
            raise Denied("jti replayed")
        return claims

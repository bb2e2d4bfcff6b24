"""What an ngrok traffic policy lets through, read offline.

ngrok evaluates the policy on its edge, which cannot be reached from here, so
`make verify` evaluates the same document itself for the CEL subset the template
writes and asks it about probe requests (method, path, with or without a protocol
upgrade). Anything outside that subset is refused with ValueError rather than
guessed at: a hand-edited policy verify cannot read is a failure, not a pass.

Subset: string literals, lists of them, `req.method`, `req.url.path`,
`req.headers` (a map of lower-case header names, ngrok docs "HTTP Request
Variables"), `==`, `!=`, `in`, `!`, `&&`, `||` and parentheses. Rules run in
order; a rule whose expressions are all true and that has a `deny` action ends
the request; a request no deny rule matched is forwarded.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

_TOKEN = re.compile(r"""\s*(?:(?P<str>'[^'\\]*'|"[^"\\]*")|(?P<op>&&|\|\||==|!=|[!()\[\],])|(?P<name>[A-Za-z_][A-Za-z0-9_.]*))""")
KNOWN_ACTIONS = {"deny", "log"}  # actions that neither forward elsewhere nor rewrite the request


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"unsupported expression syntax at {text[pos:pos + 20]!r}")
        out.append(match.group(match.lastgroup))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str, request: Mapping[str, Any]):
        self.toks, self.i, self.req = _tokens(text), 0, request

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise ValueError(f"expected {want or 'a term'}, found {tok!r}")
        self.i += 1
        return tok

    def parse(self) -> bool:
        value = self.or_()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r}")
        if not isinstance(value, bool):
            raise ValueError("an expression must be true or false")
        return value

    def or_(self) -> Any:
        return self._chain("||", self.and_, lambda a, b: a or b)

    def and_(self) -> Any:
        return self._chain("&&", self.unary, lambda a, b: a and b)

    def _chain(self, op: str, operand, combine) -> Any:
        """operand (op operand)*: both sides parsed (no short cut), then combined."""
        value = operand()
        while self.peek() == op:
            self.take()
            right = operand()
            value = combine(_bool(value), _bool(right))
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not _bool(self.unary())
        left = self.primary()
        op = self.peek()
        if op in ("==", "!="):
            self.take()
            right = self.primary()
            return (left == right) == (op == "==")
        if op == "in":
            self.take()
            right = self.primary()
            if not isinstance(right, (list, dict)):
                raise ValueError("`in` needs a list or a map on its right")
            return left in right
        return left

    def primary(self) -> Any:
        tok = self.take()
        if tok == "(":
            value = self.or_()
            self.take(")")
            return value
        if tok == "[":
            items: list[Any] = []
            while self.peek() != "]":
                items.append(self.primary())
                if self.peek() == ",":
                    self.take()
            self.take("]")
            return items
        if tok[0] in "'\"":
            return tok[1:-1]
        if tok in ("true", "false"):
            return tok == "true"
        if tok in self.req:
            return self.req[tok]
        raise ValueError(f"unsupported term {tok!r}")


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def request(method: str, path: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The variables of one HTTP request as the policy sees them."""
    return {"req.method": method, "req.url.path": path,
            "req.headers": {k.lower(): [v] for k, v in (headers or {}).items()}}


def forwards(policy: Mapping[str, Any], method: str, path: str, headers: Mapping[str, str] | None = None) -> bool:
    """True when the policy's on_http_request rules let this request through."""
    req = request(method, path, headers)
    rules = policy.get("on_http_request") or []
    if not isinstance(rules, list):
        raise ValueError("on_http_request is not a list of rules")
    for rule in rules:
        if not isinstance(rule, dict):
            raise ValueError("a rule is not a mapping")
        types = [a.get("type") if isinstance(a, dict) else None for a in rule.get("actions") or []]
        unknown = [t for t in types if t not in KNOWN_ACTIONS]
        if unknown:
            raise ValueError(f"action {unknown[0]!r} is not one verify can reason about")
        if all(_Parser(str(e), req).parse() for e in rule.get("expressions") or []) and "deny" in types:
            return False
    return True


PROBE_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket"}
# Paths probed besides the wanted ones: the Control UI, the health and readiness
# probes, an HTTP API, a webhook path of a channel that may not be selected.
DECOY_PATHS = ("/", "/healthz", "/readyz", "/startupz", "/tools/invoke", "/slack/events")


def open_requests(policy: Mapping[str, Any], paths: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Every probe request the policy forwards, as "METHOD /path" (with
    " + Upgrade: websocket" for an upgrade request)."""
    out = []
    for path in dict.fromkeys([*paths, *DECOY_PATHS]):
        for method in PROBE_METHODS:
            if forwards(policy, method, path):
                out.append(f"{method} {path}")
            if forwards(policy, method, path, UPGRADE):
                out.append(f"{method} {path} + Upgrade: websocket")
    return sorted(out)

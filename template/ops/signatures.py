"""Known failure signatures in gateway output and logs: what each means, how to fix it.

Every live target and the local launcher read logs through ``signature_results``.
"""

from __future__ import annotations

from . import checks as c

Result = c.Result
PASS, FAIL = c.PASS, c.FAIL


# What and fix said by more than one needle.
TOKEN_FIX = ("set OPENCLAW_GATEWAY_TOKEN: `make secrets` (scripts/secrets.sh) on the platform; "
             "locally `read -rs OPENCLAW_GATEWAY_TOKEN && export OPENCLAW_GATEWAY_TOKEN` (hidden input)")
SECOND_GATEWAY = ("a second gateway on the same state dir: another OpenClaw process owns it (exit 78)",
                  "stop the other gateway first (its pid is in the lock under $OPENCLAW_STATE_DIR/tmp/openclaw-<uid>/), "
                  "or give this one its own OPENCLAW_STATE_DIR; never delete a lock while its owner runs")
ORIGINS_FIX = "add the public https origin to gateway.controlUi.allowedOrigins (config/openclaw.json)"

# Known failure signatures in gateway output / logs: (needle, what, fix).
SIGNATURES: list[tuple[str, str, str]] = [
    ("ingress-auth: secret reference was not found",
     "the gateway token is not set (gateway.auth.token refers to OPENCLAW_GATEWAY_TOKEN)",
     TOKEN_FIX),
    ("required secrets are unavailable",
     "a secret the config refers to is not set in the environment",
     "set every secret the config names (`make secrets`); `openclaw secrets reload` after fixing"),
    ("Refusing to bind gateway to lan without auth",
     "the gateway refuses a lan bind without a token (exit 78)",
     TOKEN_FIX),
    ("StateDatabaseCoordinatorContentionError",
     *SECOND_GATEWAY),
    ("owner lease is still active",
     "a gateway that was killed without a clean stop (SIGKILL after the stop grace period, a "
     "force-deleted pod, a destroyed machine) still holds the state dir's lease, from another host name",
     "it expires 5 minutes after that gateway's last heartbeat: wait, and make sure nothing else mounts "
     "the volume; Compose and Kubernetes keep one host name so a replacement reclaims it at once"),
    ("another OpenClaw process owns",
     *SECOND_GATEWAY),
    ("EACCES",
     "permission denied on the state dir (volume owned by root, gateway runs as uid 1000)",
     "let the entrypoint chown the volume (docker/entrypoint.sh) or set the platform's run-as-root "
     "option for the volume (Railway: RAILWAY_RUN_UID=0)"),
    ("EADDRINUSE",
     "the port is already in use by another program",
     "stop the program on that port or choose another gateway_port"),
    # 2026.9.6 with an unset ${VAR} (or a URL with a path) as gateway.publicOrigin: exit 78,
    # "Invalid config ... gateway.publicOrigin: Invalid URL, got: "${RENDER_EXTERNAL_URL}"" (measured 2026-12-02)
    ("gateway.publicOrigin",
     "the config's gateway.publicOrigin is not a bare https origin: the variable it names is unset, or it has a path (exit 78)",
     "set the variable gateway.publicOrigin names (Railway: give the service a public domain; Northflank: `make secrets` "
     "asks OPENCLAW_PUBLIC_ORIGIN), or write a bare https://host there, then restart"),
    ("origin not allowed",
     "the Control UI origin is not in gateway.controlUi.allowedOrigins",
     ORIGINS_FIX),
    ("allowedOrigins",
     "non-loopback Control UI without gateway.controlUi.allowedOrigins",
     ORIGINS_FIX),
    ("JavaScript heap out of memory",
     "the V8 heap ran out (NODE_OPTIONS --max-old-space-size or machine memory too small)",
     "give the machine 2048 MB and keep --max-old-space-size at 75% of it"),
    ("not listening on the expected address",
     "the platform proxy finds nothing on 0.0.0.0:<internal_port>",
     "start the gateway with --bind lan and --port equal to the platform's internal port"),
    ("mutually exclusive",
     "trusted-proxy auth together with a shared token",
     "choose one: token auth (default) or trusted-proxy without gateway.auth.token"),
]


def diagnose_output(text: str) -> list[tuple[str, str, str]]:
    """Known failure signatures found in ``text`` (each what/fix once)."""
    found, seen_what = [], set()
    for needle, what, fix in SIGNATURES:
        if needle.lower() in text.lower() and what not in seen_what:
            seen_what.add(what)
            line = next((ln.strip() for ln in text.splitlines() if needle.lower() in ln.lower()), needle)
            found.append((line[:300], what, fix))
    return found


def signature_results(name: str, text: str, source: str) -> list[Result]:
    hits = diagnose_output(text)
    if not hits:
        return [Result(name, PASS, f"no known failure signature in {source}")]
    return [Result(f"{name}: {what}", FAIL, f"{source}: {line}", fix) for line, what, fix in hits]

"""What a platform sets in a running service that the generated config reads.

A public deploy's origin is `${VAR}` where only the platform knows it at run time (Render's
RENDER_EXTERNAL_URL, Railway's RAILWAY_PUBLIC_DOMAIN; Northflank's OPENCLAW_PUBLIC_ORIGIN is
stored by scripts/secrets.sh like the token). The gateway refuses a gateway.publicOrigin that
substitutes to nothing, so the harnesses that run the real gateway set these variables the way
the platform does: a hostname of the platform's shape, as a bare host or an https origin,
whichever the config's form needs.
"""

from __future__ import annotations

import re
from pathlib import Path

from ops import model as m


def origin_env(repo: str | Path) -> dict[str, str]:
    model = m.build(m.answers_from_file(Path(repo) / ".copier-answers.yml"))
    origin = model.public_origin or ""
    out = {}
    for name in re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", origin):
        host = f"{model.app_name}.{model.platform}.test"
        out[name] = host if origin.startswith("https://") else f"https://{host}"
    return out

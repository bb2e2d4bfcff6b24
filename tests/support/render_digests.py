"""The render matrix's fingerprint: sha256 of every generated file, per variant.

Issue 20 moves each platform's code and text into its own room; the move must not
change one byte of what a user gets. ``tests/test_move_is_byte_identical.py`` renders
every variant below and compares with ``tests/data/render_digests.json``, written
from the commit before the move.

A change that is *meant* to alter generated files rewrites the record, and its
commit says why:  python -m tests.support.render_digests --write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "template"))
sys.path.insert(0, str(ROOT))

from ops import model as m  # noqa: E402

RECORD = ROOT / "tests" / "data" / "render_digests.json"
SRC_PLACEHOLDER = "<template>"


def variants() -> dict[str, dict[str, Any]]:
    """Every platform x privacy x tunnel, plus each platform with everything chosen."""
    out: dict[str, dict[str, Any]] = {}
    tunnels = list(m.openclaw()["tunnels"])
    for platform in m.platforms():
        out[f"{platform}-public"] = {"platform": platform, "privacy": "public"}
        for tunnel in tunnels:
            out[f"{platform}-private-{tunnel}"] = {"platform": platform, "privacy": "private", "tunnel": tunnel}
        out[f"{platform}-private-everything"] = {
            "platform": platform, "privacy": "private", "tunnel": tunnels[-1],
            "binaries": list(m.binaries_catalog()), "channels": list(m.openclaw()["channels"]),
            "model_providers": list(m.openclaw()["model_providers"]), "uptime_minutes": "0",
            # scheduled backups on (a test recipient: an age public key), so backup.yml is recorded too
            "backup_schedule": "45 2 * * *",
            "backup_recipient": "age1w9r2k0waumevyjdne89jerjs2qrzpc3kxv4vpjl753qkv7mn6ayqftt0v5"}
    return out


def digests(repo: Path, template: Path) -> dict[str, str]:
    """path -> sha256 of each generated file; the answers file's template path is neutralised."""
    result = {}
    for path in sorted(p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts):
        data = path.read_bytes().replace(str(template).encode(), SRC_PLACEHOLDER.encode())
        mode = "x" if path.stat().st_mode & 0o100 else "-"
        result[path.relative_to(repo).as_posix()] = f"{mode}{hashlib.sha256(data).hexdigest()}"
    return result


def render_variant(template: Path, dest: Path, answers: dict[str, Any]) -> dict[str, str]:
    from tests.conftest import copy_template

    copy_template(template, dest, dict(answers))
    return digests(dest, template)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {RECORD.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    from tests.conftest import snapshot_template

    with tempfile.TemporaryDirectory() as tmp:
        template = snapshot_template(Path(tmp) / "openclaw-deploy")
        record = {name: render_variant(template, Path(tmp) / name, answers) for name, answers in variants().items()}
    if args.write:
        RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(record)} variants, {sum(map(len, record.values()))} files to {RECORD.relative_to(ROOT)}")
        return 0
    old = json.loads(RECORD.read_text())
    changed = [f"{v}: {p}" for v in sorted(set(old) | set(record))
               for p in sorted(set(old.get(v, {})) | set(record.get(v, {})))
               if old.get(v, {}).get(p) != record.get(v, {}).get(p)]
    print("\n".join(changed) or "identical")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Pin every image in images.lock by digest (`make pin-images`, scripts/pin-images.sh).

    python3 -m ops.pin_images          (from the repository root; stdlib only)

For each ``<name> <tag>`` line of images.lock it asks the docker on this machine
for the digest of the tag's manifest list (one digest for every architecture):
``docker buildx imagetools inspect`` when buildx is installed, else ``docker
pull`` and the matching RepoDigests entry of ``docker image inspect``. Then it
writes the digest into images.lock and rewrites every reference in the
Dockerfile, docker-compose.yml and k8s/ manifests from ``name:tag`` (or
``name:tag@sha256:<old>``) to ``name:tag@sha256:<new>``.

Every digest is resolved before anything is written: when one image fails, each
failure is one line naming the image and the reason, and no file changes. A
second run with the same digests changes nothing. ``make verify``
(ops/checks.py) reads the same lock and references with the helpers below.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = "images.lock"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# A tag (distribution spec): a word character, then up to 127 of [A-Za-z0-9_.-].
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
# Characters that may be part of an image reference: a match must not touch one.
_REF_CHAR = r"[A-Za-z0-9_./:@-]"


@dataclass(frozen=True)
class Entry:
    """One images.lock line: name, tag and digest ("" while unpinned)."""
    name: str
    tag: str
    digest: str = ""
    line: int = 0


@dataclass(frozen=True)
class Reference:
    """One place a file names a locked image: ``name:tag[@digest]``."""
    file: str
    line: int
    name: str
    tag: str
    digest: str  # "" when the reference has none

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def text(self) -> str:
        return f"{self.name}:{self.tag}" + (f"@{self.digest}" if self.digest else "")


class PinError(Exception):
    """Why the digest of one image could not be had."""


def split_ref(ref: str) -> tuple[str, str, str]:
    """``name[:tag][@digest]`` -> (name, tag, digest); a registry port is not a tag."""
    name, _, digest = ref.partition("@")
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        return name[:colon], name[colon + 1:], digest
    return name, "", digest


def without_digest(ref: str) -> str:
    """``name:tag@sha256:...`` -> ``name:tag`` (what the version checks compare)."""
    return ref.partition("@")[0]


def read_lock(path: Path) -> list[Entry]:
    """images.lock lines (comments and blank lines skipped); [] when it is missing."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return []
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        parts = raw.split()
        if not parts or parts[0].startswith("#"):
            continue
        out.append(Entry(parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "", number))
    return out


def reference_files(root: Path) -> list[Path]:
    """The generated files that name images to pull."""
    root = Path(root)
    files = [root / "Dockerfile", root / "docker-compose.yml"]
    k8s = root / "k8s"
    if k8s.is_dir():
        files += sorted(p for p in k8s.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [f for f in files if f.is_file()]


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(?<!{_REF_CHAR}){re.escape(name)}:(?P<tag>{_TAG})"
                      rf"(?:@(?P<digest>[A-Za-z0-9_+.:=-]*))?(?!{_REF_CHAR})")


def find_references(root: Path, names: list[str] | set[str]) -> list[Reference]:
    """Every ``name:tag[@digest]`` of the given image names in the reference files."""
    root = Path(root)
    patterns = {name: _pattern(name) for name in sorted(set(names))}
    refs = []
    for path in reference_files(root):
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for name, pattern in patterns.items():
                for match in pattern.finditer(line):
                    refs.append(Reference(rel, number, name, match.group("tag"), match.group("digest") or ""))
    return refs


def rewrite(text: str, entries: list[Entry]) -> str:
    """``text`` with each reference to a pinned entry's name:tag set to its digest."""
    for entry in entries:
        if not entry.digest:
            continue
        pinned = f"{entry.name}:{entry.tag}@{entry.digest}"
        text = _pattern(entry.name).sub(
            lambda match, e=entry, p=pinned: p if match.group("tag") == e.tag else match.group(0), text)
    return text


def lock_text(text: str, digests: dict[tuple[str, str], str]) -> str:
    """images.lock with the digest of each (name, tag) line set; comments kept."""
    lines = []
    for raw in text.splitlines():
        parts = raw.split()
        if parts and not parts[0].startswith("#") and len(parts) >= 2 and (parts[0], parts[1]) in digests:
            raw = f"{parts[0]} {parts[1]} {digests[(parts[0], parts[1])]}"
        lines.append(raw)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- asking docker

def _run(argv: list[str], timeout: int = 900) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise PinError(f"`{argv[0]}` is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise PinError(f"`{' '.join(argv[:3])}` did not finish in {timeout} s") from None
    if proc.returncode != 0:
        said = [line.strip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
        raise PinError(f"`{' '.join(argv[:3])}` failed: {said[-1] if said else f'exit {proc.returncode}'}")
    return proc.stdout


def has_buildx(docker: str = "docker") -> bool:
    try:
        _run([docker, "buildx", "version"], timeout=60)
    except PinError:
        return False
    return True


def digest_with_buildx(ref: str, docker: str = "docker") -> str:
    """The digest of the tag's manifest list (or manifest) in the registry."""
    out = _run([docker, "buildx", "imagetools", "inspect", ref, "--format", "{{json .Manifest}}"])
    try:
        digest = json.loads(out).get("digest", "")
    except (json.JSONDecodeError, AttributeError):
        raise PinError(f"`docker buildx imagetools inspect` printed no JSON manifest: {out.strip()[:120]!r}") from None
    return str(digest)


def digest_with_pull(ref: str, docker: str = "docker") -> str:
    """``docker pull``, then the RepoDigests entry of this repository."""
    name = split_ref(ref)[0]
    _run([docker, "pull", ref])
    out = _run([docker, "image", "inspect", ref, "--format", "{{json .RepoDigests}}"], timeout=60)
    try:
        repo_digests = json.loads(out.strip().splitlines()[0]) if out.strip() else []
    except json.JSONDecodeError:
        raise PinError(f"`docker image inspect` printed no JSON list: {out.strip()[:120]!r}") from None
    found = [d.partition("@")[2] for d in repo_digests or [] if d.partition("@")[0] == name]
    if not found:
        raise PinError(f"`docker image inspect` lists no digest for {name} (RepoDigests: {repo_digests})")
    return found[0]


def resolve(entry: Entry, buildx: bool, docker: str = "docker") -> str:
    ref = f"{entry.name}:{entry.tag}"
    digest = digest_with_buildx(ref, docker) if buildx else digest_with_pull(ref, docker)
    if not DIGEST.fullmatch(digest):
        raise PinError(f"docker answered {digest!r}, not sha256:<64 hex>")
    return digest


def _write(path: Path, text: str) -> None:
    """Replace ``path`` in one step, keeping its mode."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print("\n\n".join(__doc__.split("\n\n")[:3]).strip())
        return 0
    if argv:
        print(f"pin-images: takes no arguments (got {' '.join(argv)}); see --help", file=sys.stderr)
        return 2
    root = Path.cwd()
    lock_path = root / LOCK_FILE
    if not lock_path.is_file():
        print(f"pin-images: no {LOCK_FILE} here (run it from the repository root; `make update` adds the file)",
              file=sys.stderr)
        return 2
    entries = read_lock(lock_path)
    bad = [e for e in entries if not e.tag]
    if bad:
        print(f"pin-images: {LOCK_FILE}:{bad[0].line}: '{bad[0].name}' has no tag (expected <name> <tag>)",
              file=sys.stderr)
        return 2
    if not entries:
        print(f"pin-images: {LOCK_FILE} lists no image")
        return 0
    buildx = has_buildx()
    print(f"pin-images: asking docker {'buildx imagetools inspect' if buildx else 'pull + image inspect'} "
          f"for {len(entries)} image(s)")
    digests: dict[tuple[str, str], str] = {}
    failed = []
    for entry in entries:
        try:
            digests[(entry.name, entry.tag)] = resolve(entry, buildx)
        except PinError as exc:
            failed.append(f"pin-images: {entry.name}:{entry.tag}: {exc}")
    if failed:
        print("\n".join(failed), file=sys.stderr)
        print("pin-images: no file changed", file=sys.stderr)
        return 1
    pinned = [Entry(e.name, e.tag, digests[(e.name, e.tag)], e.line) for e in entries]
    changes: dict[Path, str] = {}
    text = lock_path.read_text(encoding="utf-8")
    new = lock_text(text, digests)
    if new != text:
        changes[lock_path] = new
    for path in reference_files(root):
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, pinned)
        if new != text:
            changes[path] = new
    for e in pinned:
        print(f"pin-images: {e.name}:{e.tag}@{e.digest}")
    used = {(r.name, r.tag) for r in find_references(root, {e.name for e in entries})}
    for e in entries:
        if (e.name, e.tag) not in used:
            print(f"pin-images: note: no file names {e.name}:{e.tag} (images.lock line {e.line})")
    if not changes:
        print("pin-images: every reference is already pinned; nothing changed")
        return 0
    for path, new in changes.items():
        _write(path, new)
    print(f"pin-images: wrote {', '.join(p.relative_to(root).as_posix() for p in changes)}; commit them")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

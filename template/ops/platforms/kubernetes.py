"""Kubernetes: everything the ops package knows about it, side by side.

- ``read``: k8s/base (+ k8s/overlays/public) through the kustomizations' resources;
- ``validate``: kubernetes-validate on every object listed (make verify);
- ``live``: pods and logs through ``kubectl`` (the live runbook);
- ``cost``: the pod's share of one reference node, volume, egress;
- ``private_status``: uptime's ready replicas (a kubeconfig limited to the namespace).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable

from .. import checks as c
from .. import cost as co
from .. import declared as d
from .. import live as lv
from .. import model as m
from .. import remote as rm
from .. import pin_images as pins
from .. import platform_verify as pv
from .. import signatures as sig
from ..ci_http import DeployError, private_file, secret_env
from ..pin_images import without_digest
from ..remote import app_values as remote_values  # noqa: F401  (the app name is all its argv needs)

Result = c.Result
PASS, FAIL, WARN, SKIP = c.PASS, c.FAIL, c.WARN, c.SKIP
REMOTE_NEEDS: tuple[str, ...] = ()


# --------------------------------------------------------------------- files --


def kustomize_resources(root: Path, directory: Path, declared: d.Declared, seen: set | None = None) -> list[dict]:
    """The objects a kustomization lists (resources only; no patches or generators)."""
    seen = seen if seen is not None else set()
    kustomization = d.load_yaml(directory / "kustomization.yaml", declared)
    if not isinstance(kustomization, dict):
        return []
    docs: list[dict] = []
    for entry in kustomization.get("resources") or []:
        target = (directory / entry).resolve()
        if target in seen:
            continue
        seen.add(target)
        if target.is_dir():
            docs += kustomize_resources(root, target, declared, seen)
        else:
            for doc in d.load_yaml(target, declared, many=True) or []:
                if isinstance(doc, dict):
                    doc.setdefault("_file", str(target.relative_to(root.resolve())))
                    docs.append(doc)
    for key in ("patches", "patchesStrategicMerge", "patchesJson6902", "configMapGenerator",
                "secretGenerator", "replacements"):
        if kustomization.get(key):
            declared.problems.append(
                f"{directory.relative_to(root)}/kustomization.yaml uses {key}: the static checks read "
                "resources only; run `kubectl kustomize` to see the result")
    return docs


K8S_BASE = Path("k8s") / "base"


K8S_PUBLIC = Path("k8s") / "overlays" / "public"


def read(root: Path, declared: d.Declared) -> None:
    """k8s/base (+ k8s/overlays/public when present): Deployment, Service,
    PVC, ConfigMap with the starter config, Ingress."""
    overlay = root / K8S_PUBLIC
    entry = overlay if (overlay / "kustomization.yaml").exists() else root / K8S_BASE
    docs = kustomize_resources(root, entry, declared)
    by_kind: dict[str, list[dict]] = {}
    for doc in docs:
        by_kind.setdefault(doc.get("kind", "?"), []).append(doc)
    deployments = by_kind.get("Deployment", [])
    if len(deployments) != 1:
        declared.problems.append(f"k8s: expected one Deployment, found {len(deployments)}")
        return
    deployment = deployments[0]
    spec = deployment.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    containers = pod.get("containers") or []
    gateway = next((c for c in containers if c.get("name") == "gateway"), containers[0] if containers else {})
    where = f"{deployment['_file']} gateway"
    argv = list(gateway.get("command") or []) + list(gateway.get("args") or [])
    if argv:
        d.record_command(declared, f"{where} args", argv)
    env = {e["name"]: str(e["value"]) for e in gateway.get("env") or [] if "value" in e}
    d.record_env(declared, f"{where} env", env)
    image = without_digest(str(gateway.get("image", "")))
    oc_image = m.openclaw()["image"]
    if image.startswith(oc_image + ":"):
        declared.image_tags[f"{where} image"] = image[len(oc_image) + 1:]
    named_ports = {p.get("name"): p.get("containerPort") for p in gateway.get("ports") or []}
    for p in gateway.get("ports") or []:
        declared.ports[f"{where} containerPort {p.get('name')}"] = p.get("containerPort")

    def resolve(port: Any) -> Any:
        return named_ports.get(port, port) if isinstance(port, str) else port

    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        http = (gateway.get(probe) or {}).get("httpGet")
        if http:
            declared.health_paths[f"{where} {probe}"] = http.get("path", "")
            declared.ports[f"{where} {probe} port"] = resolve(http.get("port"))
    limit = d.to_mb(((gateway.get("resources") or {}).get("limits") or {}).get("memory"))
    if limit:
        declared.memory_mb[f"{where} limits.memory"] = limit
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    claims = {c["metadata"]["name"] for c in by_kind.get("PersistentVolumeClaim", [])}
    for mount in gateway.get("volumeMounts") or []:
        claim = (volumes.get(mount.get("name")) or {}).get("persistentVolumeClaim", {}).get("claimName")
        if claim:
            if claim not in claims:
                declared.problems.append(f"k8s: volume {mount.get('name')} claims {claim!r}, which no PVC defines")
            declared.mounts[f"{where} volumeMount {mount.get('name')} (pvc {claim})"] = mount.get("mountPath", "")
    if spec.get("replicas", 1) != 1 or (spec.get("strategy") or {}).get("type") != "Recreate":
        declared.problems.append("k8s: the Deployment must run 1 replica with strategy Recreate "
                                 "(two gateways on one state dir refuse to start)")
    for svc in by_kind.get("Service", []):
        for p in (svc.get("spec") or {}).get("ports") or []:
            declared.ports[f"{svc['_file']} targetPort"] = resolve(p.get("targetPort", p.get("port")))
    for cm in by_kind.get("ConfigMap", []):
        text = (cm.get("data") or {}).get("openclaw.json")
        if text is None:
            continue
        try:
            seeded = json.loads(text)
        except json.JSONDecodeError as exc:
            declared.problems.append(f"{cm['_file']}: openclaw.json is not valid JSON: {exc}")
            continue
        gw = seeded.get("gateway", {})
        if "port" in gw:
            declared.ports[f"{cm['_file']} openclaw.json gateway.port"] = gw["port"]
        if "bind" in gw:
            declared.binds[f"{cm['_file']} openclaw.json gateway.bind"] = gw["bind"]
        if declared.config is not None and seeded != declared.config:
            declared.problems.append(f"{cm['_file']}: openclaw.json differs from config/openclaw.json")
    declared.public_ingress = bool(by_kind.get("Ingress")) or any(
        (s.get("spec") or {}).get("type") in ("LoadBalancer", "NodePort") for s in by_kind.get("Service", []))
    declared.k8s_objects = docs


# ---------------------------------------------------------------- validators --


K8S_VERSION = "1.33.0"


def check_kubernetes_validate(root: Path) -> c.Result:
    name = f"kubernetes-validate (API {K8S_VERSION})"
    exe = pv.tool("kubernetes-validate")
    if not exe:
        return c.Result(name, c.SKIP, "kubernetes-validate not installed", "make venv")
    files: list[str] = []
    for entry in (K8S_BASE, K8S_PUBLIC):
        if (root / entry / "kustomization.yaml").exists():
            scratch = d.Declared(platform="kubernetes")
            for doc in kustomize_resources(root, root / entry, scratch):
                if doc["_file"] not in files:
                    files.append(doc["_file"])
    if not files:
        return c.Result(name, c.FAIL, "no manifests listed in k8s/base/kustomization.yaml", "restore k8s/ from the template")
    proc = pv.run_tool([exe, "--strict", "-k", K8S_VERSION, *files], root)
    if proc.returncode:
        return c.Result(name, c.FAIL, pv.output(proc), "fix the fields named")
    return c.Result(name, c.PASS, ", ".join(files))


def validate(root: Path, model: m.DeployModel) -> list[c.Result]:
    return [check_kubernetes_validate(root)]


# ---------------------------------------------------------------------- live --


# make verify's rows only a cluster answers (ops/checks.py asks for them by slot, VERIFY_ROWS;
# every other platform shows them as SKIP).
def check_network_policy(repo: c.Repo) -> c.Result:
    name = "only the ingress controller reaches the gateway"
    policies = repo.declared.network_policies
    want = [m.platforms()[repo.model.platform]["ingress_namespace"]] if repo.model.public else []
    admitted = sorted({ns for names in policies.values() for ns in names})
    if not policies or admitted != want:
        return c.Result(name, c.FAIL, f"NetworkPolicy admits: {admitted if policies else 'no NetworkPolicy'}",
                      "apply k8s/base/networkpolicy.yaml: every pod of the cluster could otherwise connect and, "
                      "inside gateway.trustedProxies, choose its own client address" if repo.model.public else
                      "apply k8s/base/networkpolicy.yaml (a private gateway admits no pod; use kubectl port-forward)")
    return c.Result(name, c.PASS, f"NetworkPolicy admits {admitted or 'no pod'}")


def egress_allows(rules: list[dict[str, Any]], address: str, port: int) -> bool:
    """Whether NetworkPolicy egress rules let a pod connect to address:port
    (ipBlock peers by address; pod/namespace selectors match pods only)."""
    ip = ipaddress.ip_address(address)
    for rule in rules:
        ports = rule.get("ports") or []
        if ports and not any(p.get("port") in (None, port) for p in ports if isinstance(p, dict)):
            continue
        peers = rule.get("to")
        if not peers:
            return True  # no `to`: every destination
        for peer in peers:
            block = (peer or {}).get("ipBlock") if isinstance(peer, dict) else None
            if not block:
                continue
            net = ipaddress.ip_network(str(block.get("cidr")), strict=False)
            if ip.version == net.version and ip in net and not any(
                    ip in ipaddress.ip_network(str(e), strict=False) for e in block.get("except") or []
                    if ipaddress.ip_network(str(e), strict=False).version == ip.version):
                return True
    return False


# What the gateway pod must reach and must not (a model API's public address,
# the cloud metadata endpoint, an address in the cluster's private ranges).
EGRESS_PROBES = {"public internet (model APIs)": ("1.1.1.1", 443, True),
                 "cloud metadata endpoint": ("169.254.169.254", 80, False),
                 "cluster and node addresses": ("10.96.0.1", 443, False)}


def check_network_egress(repo: c.Repo) -> c.Result:
    """The agent runs tools: the pod's egress must not reach the node's cloud
    credentials (metadata endpoint) or the cluster, but must reach model APIs."""
    name = "gateway egress blocks cloud metadata"
    egress = repo.declared.network_egress
    fix = ("k8s/base/networkpolicy.yaml: policyTypes Egress; DNS to kube-dns, 0.0.0.0/0 except "
           "169.254.0.0/16 and the private ranges")
    if not egress or all(rules is None for rules in egress.values()):
        return c.Result(name, c.FAIL, "no NetworkPolicy restricts egress: 169.254.169.254 answers the pod", fix)
    rules = [r for rs in egress.values() if rs is not None for r in rs]
    try:
        wrong = [what for what, (address, port, want) in EGRESS_PROBES.items()
                 if egress_allows(rules, address, port) != want]
    except (ValueError, TypeError) as exc:
        return c.Result(name, c.FAIL, f"NetworkPolicy egress cannot be read: {exc}", fix)
    if wrong:
        return c.Result(name, c.FAIL, "egress " + ", ".join(
            f"{'blocks' if EGRESS_PROBES[w][2] else 'allows'} the {w} ({EGRESS_PROBES[w][0]})" for w in wrong), fix)
    return c.Result(name, c.PASS, "egress: public internet yes, 169.254.169.254 and cluster ranges no")


def _k8s_images(repo: c.Repo) -> dict[str, str]:
    """Every container image of the Deployment, after the kustomizations' `images:`."""
    import yaml

    overrides: dict[str, dict] = {}
    for rel in ("k8s/base", "k8s/overlays/public"):
        try:
            doc = yaml.safe_load((repo.root / rel / "kustomization.yaml").read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        for entry in (doc if isinstance(doc, dict) else {}).get("images") or []:
            if isinstance(entry, dict) and entry.get("name"):
                overrides[str(entry["name"])] = entry
    out = {}
    for obj in repo.declared.k8s_objects:
        if obj.get("kind") != "Deployment":
            continue
        spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
        for group in ("initContainers", "containers"):
            for container in spec.get(group) or []:
                image, tag, _ = pins.split_ref(str(container.get("image", "")))  # the digest: check_images_pinned
                o = overrides.get(image) or {}
                image, tag = str(o.get("newName", image)), str(o.get("newTag", tag))
                where = f"{obj.get('_file', 'Deployment')} {group}/{container.get('name')}"
                out[where] = f"{image}:{tag}" if tag else image
    return out


def check_k8s_image_registry(repo: c.Repo) -> c.Result:
    name = "Kubernetes image from a registry"
    images = _k8s_images(repo)
    if not images:
        return c.Result(name, c.FAIL, "no Deployment container image found", "restore k8s/base/deployment.yaml")
    bare = {k: v for k, v in images.items() if not m.image_has_registry(v)}
    if bare:
        return c.Result(name, c.FAIL, f"no registry in {c._places(bare)}: the cluster would pull it from Docker Hub, "
                      "where nobody pushed it",
                      'make update ARGS="-d image_registry=<registry>/<owner>/<repo>", then `make image` '
                      "before `make deploy`")
    want = repo.model.pushed_image or repo.model.image
    other = {k: v for k, v in images.items() if v != want}
    if other:
        return c.Result(name, c.FAIL, f"{c._places(other)}; expected {want}",
                      "`make image` pushes the expected reference; keep the manifests on it (`make update`)")
    if f"/{m.PLACEHOLDER_REGISTRY_OWNER}/" in want:
        return c.Result(name, c.WARN, f"{want} is the placeholder repository",
                      'make update ARGS="-d image_registry=<registry>/<owner>/<repo>"')
    return c.Result(name, c.PASS, c._places(images))


VERIFY_ROWS = {"network_policy": check_network_policy, "network_egress": check_network_egress,
               "k8s_image_registry": check_k8s_image_registry}


def kubectl_pod_facts(pods: Any) -> list[dict[str, Any]]:
    out = []
    for pod in (pods or {}).get("items", []):
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            state = cs.get("state") or {}
            last = (cs.get("lastState") or {}).get("terminated") or {}
            out.append({
                "pod": (pod.get("metadata") or {}).get("name"),
                "container": cs.get("name"),
                "ready": bool(cs.get("ready")),
                "restarts": cs.get("restartCount", 0),
                "waiting": (state.get("waiting") or {}).get("reason"),
                "last_terminated": last.get("reason"),
                "last_exit_code": last.get("exitCode"),
            })
    return out


def live(live: lv.Live) -> list[Result]:
    r = live.runner
    missing = lv.need(live, "kubectl", "install kubectl and select the cluster context")
    if missing:
        return [missing]
    ns = live.options.get("namespace") or live.app  # k8s/ puts everything in a namespace named after the app
    pods, bad = lv.json_or_fail(r.run(["kubectl", "get", "pods", "-n", ns, "-o", "json"]), "pods",
                              f"check the kubectl context and the namespace {ns}")
    if bad:
        return [bad]
    facts = [f for f in kubectl_pod_facts(pods) if str(f["pod"]).startswith(live.app)]
    if not facts:
        return [Result("pods", FAIL, f"no pod named {live.app}-* in namespace {ns}", "`make deploy` (see README)")]
    results = []
    for f in facts:
        bad = not f["ready"] or f["waiting"] or f["last_terminated"] == "OOMKilled"
        fix = ""
        if f["last_terminated"] == "OOMKilled":
            fix = "raise the memory limit to 2048Mi and keep --max-old-space-size at 75% of it"
        elif f["waiting"]:
            fix = f"`kubectl logs {f['pod']} -n {ns} --previous --tail 200` for the exit reason"
        results.append(Result(f"pod {f['pod']}", FAIL if bad else PASS,
                              f"ready={f['ready']} restarts={f['restarts']} waiting={f['waiting']} "
                              f"last={f['last_terminated']}({f['last_exit_code']})", fix))
    logs = r.run(["kubectl", "logs", facts[0]["pod"], "-n", ns, "--tail", "200"])
    results += sig.signature_results("recent logs", logs.stdout + logs.stderr, "kubectl logs")
    return results


# ---------------------------------------------------------------------- cost --


def cost(p: dict[str, Any], est: co.Estimate, s: co.Sizing) -> None:
    vcpu, memory_mb, volume_gb, egress_gb = s.vcpu, s.memory_mb, s.volume_gb, s.egress_gb
    node = p["reference_node"]
    share = max(memory_mb / node["memory_mb"], vcpu / node["vcpu"])
    frac = co.fraction(est.hours, node["month_hours"])
    est.sku, est.vcpu = f"pod ({vcpu:g} vCPU, {memory_mb} MB requests)", vcpu
    est.items += [
        co.Item("pod share of a node", round(node["price"] * share * frac, 2),
             f"{share:.2f} of {node['name']} at {node['price']}", p["source"], p["as_of"]),
        co.volume_item(p, volume_gb, p["volume_gb_month"], "persistent volume"),
        co.egress_item(p, egress_gb, p["egress_per_gb"]),
    ]
    est.warnings.append("cluster cost not included (control plane, ingress/load balancer, "
                        "the rest of the node pool); only this pod's share of one node is shown")


# -------------------------------------------------------------------- uptime --


def private_status(app: str, _service: str, _environment: str) -> tuple[bool, str]:
    """The Deployment's ready replicas (kubeconfig: a service account limited to the namespace)."""
    config = secret_env("KUBECONFIG_DATA")
    with tempfile.TemporaryDirectory(dir=os.environ.get("RUNNER_TEMP")) as tmp:
        env = {**os.environ, "KUBECONFIG": private_file(tmp, "config", config)}
        proc = subprocess.run(["kubectl", "get", "deployment", app, "-n", app, "-o", "json"],
                              capture_output=True, text=True, timeout=120, env=env)
    if proc.returncode:
        raise DeployError(f"kubectl get deployment {app}: exit {proc.returncode}: {proc.stderr.strip()[:300]}")
    try:
        status = json.loads(proc.stdout).get("status") or {}
    except json.JSONDecodeError as exc:
        raise DeployError("kubectl get deployment -o json did not print JSON") from exc
    ready, want = int(status.get("readyReplicas") or 0), int(status.get("replicas") or 0)
    return ready >= 1 and ready >= want, f"{ready}/{want} replicas ready"

# ------------------------------------------------- scheduled backup credentials --
# .github/workflows/backup.yml: the step's env holds the secrets (ci.yml `backup.secrets`);
# this turns them into what the CLI reads, in ``workdir`` (0700, removed by the caller).


def ci_credentials(model: m.DeployModel, env: dict[str, str], workdir: Path) -> None:
    rm.need(env, "KUBECONFIG_DATA")
    env["KUBECONFIG"] = str(rm.write_private(workdir / "kubeconfig", env["KUBECONFIG_DATA"]))

# ------------------------------------------------------------------ safe upgrade --
def restore(model: m.DeployModel, archive: Path, manifest: dict, *, say: Callable[[str], None] = print,
            remote: Any = None) -> dict | None:
    """`make restore` (ops/backup.py) after its archive checks: on the official image (no
    maintenance entrypoint of this repo) the restore pod of ops/platforms/_kubernetes_restore.py; None on an
    image built here, which restores through the generic maintenance state."""
    if model.pushed_image:
        return None
    from ops.platforms import _kubernetes_restore as k8s_restore

    return k8s_restore.restore(model, archive, manifest, say=say, remote=remote)


# ops/safe_upgrade.py's automated path (the CI deploy and `make deploy`):
#   python -m ops.safe_upgrade kubernetes --image IMAGE --kustomize DIR [--namespace NS]

SAFE_UPGRADE_HELP = "kubectl apply -k with a pre-update backup and a way back"


def safe_upgrade_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", required=True)
    parser.add_argument("--kustomize", required=True)
    parser.add_argument("--namespace")
    parser.add_argument("--deployment")
    parser.add_argument("--rollout-timeout", default="600s")
    parser.add_argument("--backups", default="backups")


def safe_upgrade(model: m.DeployModel, args: argparse.Namespace, say: Callable[[str], None] = print) -> Any:
    """`kubectl apply -k` + rollout status; the image back with `kubectl set image` on the gateway
    and its seed init container (the previous revision's image, read before the apply); on the
    official image (no hold) the pre-update backup goes back through the restore pod."""
    from .. import safe_upgrade as su

    image, kustomize_dir, rollout_timeout = args.image, args.kustomize, args.rollout_timeout
    namespace, deployment = args.namespace or model.app_name, args.deployment or model.app_name
    ns = ["-n", namespace]

    def current() -> str:
        path = '{.spec.template.spec.containers[?(@.name=="gateway")].image}'
        try:
            return su.run_checked(["kubectl", "get", "deployment", deployment, *ns, "-o", f"jsonpath={path}"],
                                  "kubectl get deployment").strip()
        except su.UpgradeError:
            return ""

    def deploy() -> None:
        su.run_checked(["kubectl", "apply", "-k", kustomize_dir], "kubectl apply")
        su.run_checked(["kubectl", "rollout", "status", f"deployment/{deployment}", *ns,
                        f"--timeout={rollout_timeout}"], f"deployment/{deployment} did not become ready in {rollout_timeout}")

    def rollback(previous: str) -> None:
        su.run_checked(["kubectl", "set", "image", f"deployment/{deployment}", *ns, f"seed-config={previous}",
                        f"gateway={previous}"], "kubectl set image")
        # the old pod comes up held in maintenance (not ready for traffic): the watch decides, not this
        subprocess.run(["kubectl", "rollout", "status", f"deployment/{deployment}", *ns, "--timeout=30s"],
                       capture_output=True, timeout=120)

    restore = None
    if image == model.image:  # the official image (no hold): the restore pod of ops/platforms/_kubernetes_restore.py
        def restore(archive: Path) -> None:
            from ops.platforms import _kubernetes_restore as k8s_restore

            k8s_restore.restore(model, archive, su.check_archive(model, archive), say=say)

    return su.Platform(label="Kubernetes", current_image=current, deploy=deploy, rollback=rollback,
                       new_image=image, restore=restore)

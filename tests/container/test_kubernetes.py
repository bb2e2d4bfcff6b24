"""Kubernetes: the pod's containers run with the constraints the manifest sets,
translated to `docker run` flags (runAsUser/runAsGroup/fsGroup, readOnlyRootFilesystem,
dropped capabilities, no privilege escalation, emptyDir as tmpfs, the ConfigMap as
a read-only mount, the PVC as a named volume prepared the way kubelet applies
fsGroup: tests/container/conftest.py k8s_pod_volumes), the init container first;
the kubelet's probes are played from another container on a test network, on the
paths and port the manifest declares."""

from __future__ import annotations

import json
from pathlib import Path

from tests.container.conftest import c, k8s_pod_volumes, logs, token, unique
from tests.container.test_checkers import probe
from tests.e2e.harness import launch_spec


def _flags(container: dict, pod: dict, volumes: dict, mounts: dict[str, str]) -> list[str]:
    ctx = {**(pod.get("securityContext") or {}), **(container.get("securityContext") or {})}
    flags: list[str] = ["--hostname", pod["hostname"]] if pod.get("hostname") else []
    if "runAsUser" in ctx:
        flags += ["--user", f"{ctx['runAsUser']}:{ctx.get('runAsGroup', ctx['runAsUser'])}"]
    if "fsGroup" in (pod.get("securityContext") or {}):
        flags += ["--group-add", str(pod["securityContext"]["fsGroup"])]
    if ctx.get("readOnlyRootFilesystem"):
        flags.append("--read-only")
    for cap in (ctx.get("capabilities") or {}).get("drop") or []:
        flags += ["--cap-drop", cap]
    if ctx.get("allowPrivilegeEscalation") is False:
        flags += ["--security-opt", "no-new-privileges"]
    for mount in container.get("volumeMounts") or []:
        source = volumes[mount["name"]]
        if "emptyDir" in source:
            flags += ["--tmpfs", f"{mount['mountPath']}:mode=1777"]
        else:
            ro = ",readonly" if mount.get("readOnly") or "configMap" in source else ""
            kind = "bind" if "configMap" in source else "volume"
            flags += ["--mount", f"type={kind},source={mounts[mount['name']]},target={mount['mountPath']}{ro}"]
    limits = (container.get("resources") or {}).get("limits") or {}
    if "memory" in limits:
        flags += ["--memory", str(limits["memory"]).replace("Mi", "m")]
    for env in container.get("env") or []:
        flags += ["-e", f"{env['name']}={env['value']}"]
    return flags


def test_kubernetes_private_pod_constraints(generate, res, base_image, tmp_path):
    repo = generate("kubernetes", "private")
    spec = launch_spec(repo)
    objects = spec.declared.k8s_objects
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = k8s_pod_volumes(pod, objects, res, base_image, tmp_path)
    secret_env = {"OPENCLAW_GATEWAY_TOKEN": token()}
    for init in pod.get("initContainers") or []:
        proc = c.docker("run", "--rm", *_flags(init, pod, volumes, mounts), "--entrypoint", init["command"][0],
                        init["image"], *init["command"][1:], *(init.get("args") or []), check=False)
        assert proc.returncode == 0, f"init container {init['name']}: {proc.stdout}{proc.stderr}"
    assert "first boot" in proc.stdout + proc.stderr
    network = unique("net")
    c.docker("network", "create", network)
    res.networks.append(network)
    main = pod["containers"][0]
    name = unique("pod")
    res.containers.append(name)
    run_pod = ["run", "-d", "--network", network, "--network-alias", "gateway",
               *_flags(main, pod, volumes, mounts), "-e", "OPENCLAW_GATEWAY_TOKEN", main["image"], *main["args"]]
    c.docker(run_pod[0], "--name", name, *run_pod[1:], env={**c.docker_env(), **secret_env})
    port = next(p["containerPort"] for p in main["ports"] if p["name"] == "http")
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = main[kind]["httpGet"]
        assert get["port"] in ("http", port)
        for _ in range(90):
            code, body = probe(network, f"http://gateway:{port}{get['path']}")
            if code == 200:
                break
            assert inspect_running(name), logs(name)[-3000:]
        assert code == 200, (kind, get["path"], code, body[:200], logs(name)[-2000:])
        data = json.loads(body)
        assert data.get("ok") is True, data
    # the state landed on the volume, owned by the pod's user
    owner = c.docker("run", "--rm", "-v", f"{mounts['state']}:/v", "--entrypoint", "stat", base_image,
                     "-c", "%u", "/v/openclaw.json").stdout.strip()
    assert owner == str(pod["securityContext"]["runAsUser"])
    # a force-deleted pod (no clean stop) replaced by a new one on the same claim: the
    # Deployment's fixed hostname lets it reclaim the gateway's lease at once
    c.docker("rm", "-f", name)
    name = unique("pod")
    res.containers.append(name)
    c.docker(run_pod[0], "--name", name, *run_pod[1:], env={**c.docker_env(), **secret_env})
    for _ in range(90):
        code, body = probe(network, f"http://gateway:{port}{main['startupProbe']['httpGet']['path']}")
        if code == 200:
            break
        assert inspect_running(name) or "owner lease" not in logs(name), logs(name)[-3000:]
    assert code == 200, (code, body[:200], logs(name)[-2000:])


def inspect_running(name: str) -> bool:
    return json.loads(c.docker("inspect", name).stdout)[0]["State"]["Running"]

#!/usr/bin/env bash
# CI only (.github/workflows/deploy.yml): roll the pushed image out to the cluster.
#
# KUBECONFIG_DATA (a service account limited to NAMESPACE) is written to a
# private temp file for this job only. The image goes into KUSTOMIZE_DIR's
# kustomization (this checkout only, never committed); the rendered manifests
# must name IMAGE (an override whose name matches nothing would ship the
# mutable tag and still report success). Then the safe upgrade (ops/safe_upgrade.py):
# when the running image differs, a pre-update backup (kept on this runner for the
# rollback; with ENCRYPT_TO, also encrypted to backup_recipient there: the job uploads
# only that .age), `kubectl apply -k`, `kubectl
# rollout status` with ROLLOUT_TIMEOUT and a wait until the new release started;
# a refused start gets `openclaw doctor --fix --non-interactive`; a failure puts the
# previous image back AND restores the backup, and the job fails. The Deployment
# in the cluster must then run IMAGE. A public gateway is then checked on https://.../startupz.
set -euo pipefail
: "${KUBECONFIG_DATA:?KUBECONFIG_DATA is empty}" "${IMAGE:?}" "${IMAGE_NAME:?}"
: "${KUSTOMIZE_DIR:?}" "${NAMESPACE:?}" "${DEPLOYMENT:?}"
rollout_timeout="${ROLLOUT_TIMEOUT:-600s}"

umask 077
kube_dir="$(mktemp -d "${RUNNER_TEMP:-/tmp}/kube.XXXXXX")"
# the pre-update backup stays on this runner only, for the rollback; it goes with the job
backup_dir="$kube_dir/backups"
trap 'rm -rf "$kube_dir"' EXIT
printf '%s\n' "$KUBECONFIG_DATA" > "$kube_dir/config"
export KUBECONFIG="$kube_dir/config"

kustomization="$KUSTOMIZE_DIR/kustomization.yaml"
if grep -q '^images:' "$kustomization"; then
  echo "::error::$kustomization already has images:; remove it (CI sets the image)"; exit 1
fi
cat >> "$kustomization" <<YAML
images:
  - name: ${IMAGE_NAME}
    newName: ${IMAGE%:*}
    newTag: ${IMAGE##*:}
YAML

rendered="$(kubectl kustomize "$KUSTOMIZE_DIR")"
if [[ "$rendered"$'\n' != *"image: $IMAGE"$'\n'* ]]; then
  echo "::error::the images: override (name ${IMAGE_NAME}) matched no image in $KUSTOMIZE_DIR: not deploying"; exit 1
fi

# apply + rollout status through the safe upgrade (ops/safe_upgrade.py): a pre-update backup
# when the image changes, and on a failure the old image back AND that backup restored.
py=python3
if [ -x .venv/bin/python ]; then py=.venv/bin/python; fi  # make venv, the step before
if ! "$py" -m ops.safe_upgrade kubernetes --image "$IMAGE" --kustomize "$KUSTOMIZE_DIR" \
    --namespace "$NAMESPACE" --deployment "$DEPLOYMENT" --rollout-timeout "$rollout_timeout" \
    --backups "$backup_dir" --encrypt-to "${ENCRYPT_TO:-}"; then
  echo "::error::deployment/$DEPLOYMENT was not upgraded (the lines above say what was rolled back)"; exit 1
fi
deployed="$(kubectl get deployment "$DEPLOYMENT" -n "$NAMESPACE" -o 'jsonpath={.spec.template.spec.containers[?(@.name=="gateway")].image}')"
if [ "$deployed" != "$IMAGE" ]; then
  echo "::error::deployment/$DEPLOYMENT runs ${deployed:-no gateway image}, not the image built here ($IMAGE)"; exit 1
fi
if [ -n "${OPENCLAW_PUBLIC_URL:-}" ]; then
  python3 -m ops.wait_healthy "${OPENCLAW_PUBLIC_URL%/}/startupz"
fi
echo "deployment/$DEPLOYMENT runs $IMAGE"

#!/usr/bin/env bash
# Releases this stack's hold on the pool's node image (HOLD_VOLUME), then removes every node
# image and base image of the pool that nothing holds or uses any more: the image stays while
# another stack holds it or a disk backs onto it, and goes with the last of them. Idempotent.
set -euo pipefail

# oslo-mesh:include libvirt-common.sh

volumes=$(volume_list)
if listed "${HOLD_VOLUME}" "${volumes}"; then
  virsh_ vol-delete --pool "${POOL}" "${HOLD_VOLUME}" >/dev/null
fi
prune_images
echo "released ${NODE_IMAGE}"

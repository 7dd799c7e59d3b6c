// What a preview warns about in the Kubernetes settings: choices that are valid but stop a step
// later, or leave a known hole open. Pure, so the tests read the warnings directly.
import * as semver from "semver";
import { CRICTL_SUM_FILES_SINCE, KubernetesConfig } from "./render";
import { cniManifestSha256 } from "../../stacks/defaults";

/**
 * Ubuntu 20.04's containerd 1.3.3 builds that carry the fix for CVE-2020-15257 (containerd-shim
 * API reachable from host-network containers): USN-4653-1/-2, fixed in focal's 1.3.3-0ubuntu2.2
 * (USN-4653-2 superseded 2.1, which stopped docker.io on upgrade); 1.3.3-0ubuntu2.3 (USN-4881-1)
 * also fixes CVE-2021-21334. Upstream fixed it in 1.3.9 and 1.4.3.
 */
export const CONTAINERD_CVE_2020_15257_FIXED_FOCAL = "1.3.3-0ubuntu2.2";

function containerdLacksShimFix(version: string): boolean {
    const focal = /^1\.3\.3-0ubuntu2(?:\.(\d+))?$/.exec(version);
    if (focal) return Number(focal[1] ?? 0) < 2;
    const upstream = semver.coerce(version.split("-")[0]);
    if (!upstream) return false;
    return semver.satisfies(upstream, "<1.3.9 || >=1.4.0 <1.4.3");
}

export function kubernetesAdvisories(k: KubernetesConfig): string[] {
    const out: string[] = [];
    if (!k.crictlSha256 && semver.lt(k.crictlVersion, CRICTL_SUM_FILES_SINCE)) {
        out.push(`cri-tools v${k.crictlVersion} publishes crictl's sha256 only in its release notes: set oslo-mesh:kubernetes.crictlSha256 from them, or node preparation stops before installing anything`);
    }
    if (!cniManifestSha256(k.cni)) {
        out.push(
            `oslo-mesh:kubernetes.cni.manifestSha256 is not set: the CNI step stops before applying ${k.cni.manifestUrl.split("#")[0]}. ` +
                "Fetch it on a trusted machine, check it, and set its sha256 (pulumi config set --path oslo-mesh:kubernetes.cni.manifestSha256 <sum>)",
        );
    }
    if (containerdLacksShimFix(k.containerdVersion)) {
        out.push(
            `containerd ${k.containerdVersion} lacks the fix for CVE-2020-15257 (a host-network container running as root can reach containerd-shim's API): ` +
                `Ubuntu 20.04 fixed it in ${CONTAINERD_CVE_2020_15257_FIXED_FOCAL} (USN-4653-2), which its archive no longer offers (focal-updates moved to containerd 1.5+); ` +
                "serve that build from your own mirror and set oslo-mesh:kubernetes.containerdVersion to it, and keep untrusted pods off the host network",
        );
    }
    return out;
}

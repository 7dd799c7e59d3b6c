// Pure renders for in-place upgrades, and the order they run in.
import * as path from "path";
import { renderScript } from "../../../shared/script";
import { artifacts, KubernetesConfig, ScriptEnv } from "../../render";
import { kubeadmUpgradeCommands } from "../versions";

const script = (name: string) => path.join(__dirname, name);

export type UpgradeRole = "first-control-plane" | "control-plane" | "worker";

/** One step of an upgrade, as it appears in the plan and in the upgrade summary. */
export interface UpgradeStep {
    /** The resource name: `<node>-upgrade`, `<node>-drain` or `<node>-uncordon`. */
    readonly resource: string;
    readonly node: string;
    readonly kind: "upgrade" | "drain" | "uncordon";
    /** Names of the steps it waits for (besides its node's join). */
    readonly after: ReadonlyArray<string>;
}

/**
 * kubeadm's order: the first control plane; the other control planes one at a time; then the
 * workers, at most `maxParallelWorkers` at once: worker i waits for worker i - maxParallelWorkers,
 * so there are that many lanes, each one worker after another (drain, upgrade, uncordon).
 */
export function upgradeOrder(controlPlanes: ReadonlyArray<string>, workers: ReadonlyArray<string>, maxParallelWorkers: number): UpgradeStep[] {
    const steps: UpgradeStep[] = [];
    let previous: string[] = [];
    for (const cp of controlPlanes) {
        steps.push({ resource: `${cp}-upgrade`, node: cp, kind: "upgrade", after: previous });
        previous = [`${cp}-upgrade`];
    }
    const lastControlPlane = previous;
    workers.forEach((w, i) => {
        const lane = i >= maxParallelWorkers ? [`${workers[i - maxParallelWorkers]}-uncordon`] : [];
        steps.push({ resource: `${w}-drain`, node: w, kind: "drain", after: [...lastControlPlane, ...lane] });
        steps.push({ resource: `${w}-upgrade`, node: w, kind: "upgrade", after: [`${w}-drain`] });
        steps.push({ resource: `${w}-uncordon`, node: w, kind: "uncordon", after: [`${w}-upgrade`] });
    });
    return steps;
}

export interface UpgradeEnv extends ScriptEnv {
    readonly waitSeconds?: number;
}

/** The script that converges one node to `k.version` (create and update alike). */
export function renderUpgradeScript(nodeName: string, role: UpgradeRole, k: KubernetesConfig, env: UpgradeEnv = {}): string {
    const kube = artifacts(k).filter((a) => ["kubeadm", "kubelet", "kubectl"].includes(a.name));
    const commands = kubeadmUpgradeCommands(k.version);
    return renderScript(script("upgrade-node.sh"), {
        ROOT: env.root ?? "",
        NODE_NAME: nodeName,
        ROLE: role,
        TARGET_VERSION: k.version,
        UPGRADE_ARGS: role === "worker" ? commands.worker : role === "control-plane" ? commands.controlPlane : [],
        // Control planes have admin.conf; a worker reads its own Node and kubeadm-config with the
        // kubelet's credentials (kubeadm grants nodes both).
        KUBECONFIG_FILE: role === "worker" ? "/etc/kubernetes/kubelet.conf" : "/etc/kubernetes/admin.conf",
        WAIT_SECONDS: env.waitSeconds ?? 600,
        ARTIFACT_NAMES: kube.map((a) => a.name),
        ARTIFACT_URLS: kube.map((a) => a.url),
        ARTIFACT_SUM_URLS: kube.map((a) => a.sumUrl),
        ARTIFACT_SUMS: kube.map((a) => a.sum),
        ARTIFACT_SUM_TOOLS: kube.map((a) => a.sumTool),
    });
}

/** Drain (before) or uncordon (after) a worker's upgrade, on the first control plane. */
export function renderWorkerMaintenanceScript(action: "drain" | "uncordon", worker: string, k: KubernetesConfig, env: UpgradeEnv = {}): string {
    return renderScript(script("worker-maintenance.sh"), {
        ROOT: env.root ?? "",
        ACTION: action,
        NODE_NAME: worker,
        TARGET_VERSION: k.version,
        DRAIN_TIMEOUT: k.upgrade.drainTimeout,
        WAIT_SECONDS: env.waitSeconds ?? 600,
    });
}

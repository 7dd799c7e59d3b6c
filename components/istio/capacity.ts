// What the mesh itself costs in CPU and memory, from the stack's expected load and Istio 1.3's
// published costs ("Performance and Scalability", Istio 1.3), against the workers' capacity.
import { StackConfig } from "../../stacks/schema";
import { parseQuantity } from "../shared/quantity";

/** Istio 1.3's published figures. */
export const ISTIO_13_COSTS = {
    /** An Envoy sidecar: vCPU and MB per 1000 requests per second through it. */
    sidecarCpuPer1000Rps: 0.6,
    sidecarMemoryMBPer1000Rps: 50,
    /** istio-telemetry (Mixer): vCPU per 1000 mesh-wide requests per second. */
    telemetryCpuPer1000Rps: 0.6,
    /** Pilot: vCPU and GB. */
    pilotCpu: 1,
    pilotMemoryGB: 1.5,
};

/** What a worker keeps for the OS, the kubelet and the node's system pods (our model, not Istio's). */
export const NODE_RESERVE = { cpu: 0.5, memoryMiB: 768 };

const MiB = 2 ** 20;

export interface CapacityRow {
    readonly component: string;
    readonly cpu: number;
    readonly memoryMiB: number;
}

export interface Capacity {
    readonly rows: CapacityRow[];
    readonly need: { cpu: number; memoryMiB: number };
    readonly allocatable: { cpu: number; memoryMiB: number };
    readonly fits: boolean;
}

/**
 * The mesh's needs: every sidecar's configured requests plus its share of the published
 * per-request cost, Mixer telemetry's requests (at its minimum replicas) plus its per-request
 * cost, and pilot. Against it: the workers' vCPUs and memory less NODE_RESERVE (control
 * planes carry kubeadm's NoSchedule taint).
 */
export function meshCapacity(cfg: Pick<StackConfig, "istio" | "nodes" | "load">): Capacity {
    const c = ISTIO_13_COSTS;
    const proxy = cfg.istio.proxy.resources.requests;
    const proxyCpu = parseQuantity(proxy.cpu) ?? 0;
    const proxyMiB = (parseQuantity(proxy.memory) ?? 0) / MiB;
    const rows: CapacityRow[] = [];
    let totalRps = 0;
    for (const s of cfg.load.services) {
        const perPod = s.rps / s.replicas;
        totalRps += s.rps;
        rows.push({
            component: `sidecars ${s.namespace}/${s.name} (${s.replicas})`,
            cpu: s.replicas * (proxyCpu + (c.sidecarCpuPer1000Rps * perPod) / 1000),
            memoryMiB: s.replicas * (proxyMiB + (c.sidecarMemoryMBPer1000Rps * 1e6 * perPod) / 1000 / MiB),
        });
    }
    const t = cfg.istio.mixer.telemetry;
    if (t.enabled) {
        rows.push({
            component: `istio-telemetry (${t.autoscaleMin})`,
            cpu: t.autoscaleMin * (parseQuantity(t.resources.requests.cpu) ?? 0) + (c.telemetryCpuPer1000Rps * totalRps) / 1000,
            memoryMiB: (t.autoscaleMin * (parseQuantity(t.resources.requests.memory) ?? 0)) / MiB,
        });
    }
    rows.push({ component: "istio-pilot", cpu: c.pilotCpu, memoryMiB: (c.pilotMemoryGB * 1e9) / MiB });
    const need = { cpu: rows.reduce((a, r) => a + r.cpu, 0), memoryMiB: rows.reduce((a, r) => a + r.memoryMiB, 0) };
    const workers = cfg.nodes.filter((n) => n.role === "worker");
    const allocatable = {
        cpu: workers.reduce((a, n) => a + Math.max(0, n.vcpus - NODE_RESERVE.cpu), 0),
        memoryMiB: workers.reduce((a, n) => a + Math.max(0, n.memoryMiB - NODE_RESERVE.memoryMiB), 0),
    };
    return { rows, need, allocatable, fits: need.cpu <= allocatable.cpu && need.memoryMiB <= allocatable.memoryMiB };
}

/** The capacity as a table for people. */
export function capacityTable(cap: Capacity): string {
    const fmt = (r: { cpu: number; memoryMiB: number }) => `${r.cpu.toFixed(2).padStart(8)}  ${(r.memoryMiB / 1024).toFixed(2).padStart(9)} GiB`;
    const width = Math.max(24, ...cap.rows.map((r) => r.component.length));
    const line = (name: string, r: { cpu: number; memoryMiB: number }) => `  ${name.padEnd(width)}  ${fmt(r)}`;
    return [
        `  ${"mesh component".padEnd(width)}      vCPU     memory`,
        ...cap.rows.map((r) => line(r.component, r)),
        line("total the mesh needs", cap.need),
        line("workers' allocatable", cap.allocatable),
    ].join("\n");
}

// What the mesh costs in CPU and memory against the workers: every control-plane pod as the
// chart will request it (the program's values plus the chart's own defaults; proven equal to
// the rendered chart in test/capacity.test.ts), which the scheduler must fit on some single
// worker (control planes carry kubeadm's NoSchedule taint); and, from the stack's expected
// load, Istio 1.3's published per-request costs ("Performance and Scalability", Istio 1.3).
import { Path } from "../../stacks/problems";
import { StackConfig } from "../../stacks/schema";
import { parseQuantity } from "../shared/quantity";

/** Istio 1.3's published figures. */
export const ISTIO_13_COSTS = {
    /** An Envoy sidecar: vCPU and MB per 1000 requests per second through it. */
    sidecarCpuPer1000Rps: 0.6,
    sidecarMemoryMBPer1000Rps: 50,
    /** istio-telemetry (Mixer): vCPU per 1000 mesh-wide requests per second. */
    telemetryCpuPer1000Rps: 0.6,
};

/**
 * The 1.3.3 chart's figures that the program does not set (test/capacity.test.ts reads them in
 * ../shared/reference): `global.defaultResources.requests` for every container without
 * resources of its own, and the replicas of citadel and prometheus.
 */
export const CHART_FIGURES = {
    defaultRequests: { cpu: "10m" as string, memory: undefined as string | undefined },
    citadelReplicas: 1,
    prometheusReplicas: 1,
    tracingReplicas: 1,
};

/** What a worker keeps for the OS, the kubelet and the node's system pods (our model, not Istio's). */
export const NODE_RESERVE = { cpu: 0.5, memoryMiB: 768 };

const MiB = 2 ** 20;

export interface Requests {
    readonly cpu: number;
    readonly memoryMiB: number;
}

export interface ControlPlanePod {
    /** The Deployment. */
    readonly name: string;
    readonly replicas: number;
    /** Each container's requests, and where they come from. */
    readonly containers: ReadonlyArray<Requests & { readonly name: string }>;
    /** The config key that sets the largest request, for messages. */
    readonly key: Path;
}

type Istio = StackConfig["istio"];
type ResourcesLike = { requests: { cpu: string; memory: string } } | undefined;

function requestsOf(r: ResourcesLike | { requests: { cpu: string; memory?: string } }): Requests {
    return { cpu: parseQuantity(r?.requests.cpu ?? "0") ?? 0, memoryMiB: (parseQuantity(r?.requests.memory ?? "0") ?? 0) / MiB };
}
const DEFAULT_REQUESTS = () => requestsOf({ requests: { cpu: CHART_FIGURES.defaultRequests.cpu, memory: CHART_FIGURES.defaultRequests.memory } });
const mixerReplicas = (m: Istio["mixer"]["telemetry"] | Istio["mixer"]["policy"]) => (m.autoscaleEnabled ? m.autoscaleMin : m.replicaCount);

/** Every pod the chart runs with these settings, at its fewest replicas (an autoscaler's minimum). */
export function controlPlanePods(istio: Istio): ControlPlanePod[] {
    const proxy = { name: "istio-proxy", ...requestsOf(istio.proxy.resources) };
    const pods: ControlPlanePod[] = [
        { name: "istio-pilot", replicas: istio.pilot.autoscaleMin, containers: [{ name: "discovery", ...requestsOf(istio.pilot.resources) }, proxy], key: ["istio", "pilot", "resources", "requests"] },
        { name: "istio-ingressgateway", replicas: istio.ingressGateway.autoscaleMin, containers: [{ name: "istio-proxy", ...requestsOf(istio.ingressGateway.resources) }], key: ["istio", "ingressGateway", "resources", "requests"] },
        { name: "istio-galley", replicas: istio.galley.replicaCount, containers: [{ name: "galley", ...DEFAULT_REQUESTS() }], key: ["istio", "galley", "replicaCount"] },
        { name: "istio-sidecar-injector", replicas: istio.sidecarInjector.replicaCount, containers: [{ name: "sidecar-injector-webhook", ...DEFAULT_REQUESTS() }], key: ["istio", "sidecarInjector", "replicaCount"] },
        { name: "istio-citadel", replicas: CHART_FIGURES.citadelReplicas, containers: [{ name: "citadel", ...DEFAULT_REQUESTS() }], key: ["istio"] },
        { name: "prometheus", replicas: CHART_FIGURES.prometheusReplicas, containers: [{ name: "prometheus", ...DEFAULT_REQUESTS() }], key: ["istio"] },
    ];
    const t = istio.mixer.telemetry;
    if (t.enabled) pods.push({ name: "istio-telemetry", replicas: mixerReplicas(t), containers: [{ name: "mixer", ...requestsOf(t.resources) }, proxy], key: ["istio", "mixer", "telemetry", "resources", "requests"] });
    const p = istio.mixer.policy;
    if (p.enabled) pods.push({ name: "istio-policy", replicas: mixerReplicas(p), containers: [{ name: "mixer", ...(p.resources ? requestsOf(p.resources) : DEFAULT_REQUESTS()) }, proxy], key: ["istio", "mixer", "policy", "resources", "requests"] });
    if (istio.tracing.enabled) pods.push({ name: "istio-tracing", replicas: CHART_FIGURES.tracingReplicas, containers: [{ name: "jaeger", ...DEFAULT_REQUESTS() }], key: ["istio", "tracing", "enabled"] });
    return pods;
}

/** A pod's requests: the sum of its containers'. */
export function podRequests(pod: ControlPlanePod): Requests {
    return pod.containers.reduce((a, c) => ({ cpu: a.cpu + c.cpu, memoryMiB: a.memoryMiB + c.memoryMiB }), { cpu: 0, memoryMiB: 0 });
}

/** What the scheduler may give pods on a worker, in our model: its size less NODE_RESERVE. */
export function workerAllocatable(nodes: StackConfig["nodes"]): Array<Requests & { readonly name: string }> {
    return nodes
        .filter((n) => n.role === "worker")
        .map((n) => ({ name: n.name, cpu: Math.max(0, n.vcpus - NODE_RESERVE.cpu), memoryMiB: Math.max(0, n.memoryMiB - NODE_RESERVE.memoryMiB) }));
}

const fitsIn = (r: Requests, room: Requests) => r.cpu <= room.cpu + 1e-9 && r.memoryMiB <= room.memoryMiB + 1e-9;

/**
 * The replicas that cannot be placed when every control-plane replica is put on the workers,
 * largest first, each on the first worker with room (first-fit decreasing): a scheduler that
 * places them one by one does no better on requests alone.
 */
export function unplacedReplicas(pods: ReadonlyArray<ControlPlanePod>, workers: ReadonlyArray<Requests>): string[] {
    const room = workers.map((w) => ({ cpu: w.cpu, memoryMiB: w.memoryMiB }));
    const replicas = pods.flatMap((p) => Array.from({ length: p.replicas }, (_, k) => ({ name: `${p.name}#${k + 1}`, r: podRequests(p) })));
    replicas.sort((a, b) => b.r.memoryMiB - a.r.memoryMiB || b.r.cpu - a.r.cpu);
    const unplaced: string[] = [];
    for (const { name, r } of replicas) {
        const w = room.find((x) => fitsIn(r, x));
        if (!w) unplaced.push(name);
        else {
            w.cpu -= r.cpu;
            w.memoryMiB -= r.memoryMiB;
        }
    }
    return unplaced;
}

export interface CapacityRow {
    readonly component: string;
    readonly cpu: number;
    readonly memoryMiB: number;
}

export interface Misfit {
    readonly pod: ControlPlanePod;
    readonly requests: Requests;
}

export interface Capacity {
    readonly rows: CapacityRow[];
    readonly need: { cpu: number; memoryMiB: number };
    readonly allocatable: { cpu: number; memoryMiB: number };
    /** Control-plane pods that no single worker can hold. */
    readonly misfits: Misfit[];
    /** Control-plane replicas that do not fit on the workers together. */
    readonly unplaced: string[];
    /** The largest worker's allocatable, for messages. */
    readonly largestWorker: Requests;
    readonly fits: boolean;
}

/**
 * The mesh's needs: every control-plane pod's requests at its fewest replicas, every
 * sidecar's configured requests plus its share of the published per-request cost, and Mixer
 * telemetry's per-request cost. Against it: the workers' vCPUs and memory less NODE_RESERVE.
 */
export function meshCapacity(cfg: Pick<StackConfig, "istio" | "nodes" | "load">): Capacity {
    const c = ISTIO_13_COSTS;
    const proxy = requestsOf(cfg.istio.proxy.resources);
    const rows: CapacityRow[] = [];
    const pods = controlPlanePods(cfg.istio);
    for (const p of pods) {
        const r = podRequests(p);
        rows.push({ component: `${p.name} (${p.replicas} × ${p.containers.map((x) => x.name).join("+")})`, cpu: p.replicas * r.cpu, memoryMiB: p.replicas * r.memoryMiB });
    }
    let totalRps = 0;
    for (const s of cfg.load.services) {
        const perPod = s.rps / s.replicas;
        totalRps += s.rps;
        rows.push({
            component: `sidecars ${s.namespace}/${s.name} (${s.replicas})`,
            cpu: s.replicas * (proxy.cpu + (c.sidecarCpuPer1000Rps * perPod) / 1000),
            memoryMiB: s.replicas * (proxy.memoryMiB + (c.sidecarMemoryMBPer1000Rps * 1e6 * perPod) / 1000 / MiB),
        });
    }
    if (cfg.istio.mixer.telemetry.enabled && totalRps > 0) {
        rows.push({ component: `istio-telemetry at ${totalRps} rps`, cpu: (c.telemetryCpuPer1000Rps * totalRps) / 1000, memoryMiB: 0 });
    }
    const need = { cpu: rows.reduce((a, r) => a + r.cpu, 0), memoryMiB: rows.reduce((a, r) => a + r.memoryMiB, 0) };
    const workers = workerAllocatable(cfg.nodes);
    const allocatable = { cpu: workers.reduce((a, w) => a + w.cpu, 0), memoryMiB: workers.reduce((a, w) => a + w.memoryMiB, 0) };
    const largestWorker = workers.reduce((a, w) => ({ cpu: Math.max(a.cpu, w.cpu), memoryMiB: Math.max(a.memoryMiB, w.memoryMiB) }), { cpu: 0, memoryMiB: 0 });
    const misfits = pods.map((pod) => ({ pod, requests: podRequests(pod) })).filter((m) => !workers.some((w) => fitsIn(m.requests, w)));
    const unplaced = misfits.length ? [] : unplacedReplicas(pods, workers);
    const aggregate = need.cpu <= allocatable.cpu && need.memoryMiB <= allocatable.memoryMiB;
    return { rows, need, allocatable, misfits, unplaced, largestWorker, fits: aggregate && misfits.length === 0 && unplaced.length === 0 };
}

/** Why one pod fits on no worker, with the figures. */
export function misfitMessage(m: Misfit, largest: Requests): string {
    const parts = m.pod.containers.map((c) => `${c.name} ${fmtCpu(c.cpu)}/${Math.round(c.memoryMiB)}Mi`).join(" + ");
    return `each ${m.pod.name} pod requests ${fmtCpu(m.requests.cpu)} CPU and ${Math.round(m.requests.memoryMiB)} MiB (${parts}), but no worker can hold it: the largest has ${fmtCpu(largest.cpu)} CPU and ${Math.round(largest.memoryMiB)} MiB allocatable (its size less ${NODE_RESERVE.cpu} vCPU and ${NODE_RESERVE.memoryMiB} MiB for the system; control planes take no pods): lower the requests here or give the workers more (nodes[].vcpus, nodes[].memoryMiB)`;
}

function fmtCpu(cpu: number): string {
    return Number.isInteger(cpu) ? String(cpu) : `${Math.round(cpu * 1000)}m`;
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
        ...(cap.unplaced.length ? [`  does not fit on the workers together: ${cap.unplaced.join(", ")}`] : []),
    ].join("\n");
}

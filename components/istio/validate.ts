// Rules for the Istio settings that the schema alone cannot say.
import { Problems } from "../../stacks/problems";
import { StackConfig } from "../../stacks/schema";
import { durationMs } from "../shared/duration";
import { parseQuantity } from "../shared/quantity";
import { ISTIO_VERSION } from "./values";

/** Milliseconds of a duration (components/shared/duration.ts; here for the modules that import it from this one). */
export { durationMs } from "../shared/duration";

/** Namespaces that must never get sidecars: the control plane and Kubernetes' own. */
export const NO_INJECTION = ["kube-system", "istio-system"];
/** Report batching bounds: at least one entry, and never holding reports longer than a metrics scrape (1 min). */
export const BATCH_ENTRIES = { min: 1, max: 10000 };
export const BATCH_TIME_MS = { min: 1, max: 60000 };
/** The Kubernetes default NodePort range (kube-apiserver --service-node-port-range). */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 };

type Istio = StackConfig["istio"];
type Resources = { requests: { cpu: string; memory: string }; limits?: { cpu: string; memory: string } };

function checkResources(r: Resources | undefined, path: Array<string | number>, p: Problems): void {
    if (!r?.limits) return;
    for (const kind of ["cpu", "memory"] as const) {
        const req = parseQuantity(r.requests[kind]);
        const lim = parseQuantity(r.limits[kind]);
        if (req !== undefined && lim !== undefined && req > lim) {
            p.add([...path, "requests", kind], `request ${r.requests[kind]} is above the limit ${r.limits[kind]}`);
        }
    }
}

/**
 * The deployments the chart guards with a PodDisruptionBudget (minAvailable 1), the config key
 * that sets their fewest replicas, and that number. A budget over a single replica makes
 * `kubectl drain` wait forever.
 */
export function budgetedDeployments(i: Istio): Array<{ deployment: string; key: Array<string | number>; replicas: number }> {
    const mixer = (m: Istio["mixer"]["telemetry"] | Istio["mixer"]["policy"], name: string) =>
        m.autoscaleEnabled ? { deployment: `istio-${name}`, key: ["istio", "mixer", name, "autoscaleMin"], replicas: m.autoscaleMin } : { deployment: `istio-${name}`, key: ["istio", "mixer", name, "replicaCount"], replicas: m.replicaCount };
    return [
        { deployment: "istio-pilot", key: ["istio", "pilot", "autoscaleMin"], replicas: i.pilot.autoscaleMin },
        { deployment: "istio-ingressgateway", key: ["istio", "ingressGateway", "autoscaleMin"], replicas: i.ingressGateway.autoscaleMin },
        { deployment: "istio-galley", key: ["istio", "galley", "replicaCount"], replicas: i.galley.replicaCount },
        { deployment: "istio-sidecar-injector", key: ["istio", "sidecarInjector", "replicaCount"], replicas: i.sidecarInjector.replicaCount },
        ...(i.mixer.telemetry.enabled ? [mixer(i.mixer.telemetry, "telemetry")] : []),
        ...(i.mixer.policy.enabled ? [mixer(i.mixer.policy, "policy")] : []),
    ];
}

export function checkIstio(cfg: Pick<StackConfig, "istio">, p: Problems): void {
    const i = cfg.istio;
    if (i.version !== ISTIO_VERSION) p.add(["istio", "version"], `only Istio ${ISTIO_VERSION} is supported (its charts and CRDs are what the program installs), got ${JSON.stringify(i.version)}`);
    checkResources(i.proxy.resources, ["istio", "proxy", "resources"], p);
    checkResources(i.proxy.init.resources, ["istio", "proxy", "init", "resources"], p);
    checkResources(i.pilot.resources, ["istio", "pilot", "resources"], p);
    checkResources(i.ingressGateway.resources, ["istio", "ingressGateway", "resources"], p);
    checkResources(i.mixer.policy.resources, ["istio", "mixer", "policy", "resources"], p);
    const t = i.mixer.telemetry;
    checkResources(t.resources, ["istio", "mixer", "telemetry", "resources"], p);

    // Pilot reads PILOT_TRACE_SAMPLING as a percentage "to 0.01" (pilot/pkg/features/pilot.go at 1.3.3).
    if (!(i.traceSampling >= 0 && i.traceSampling <= 100)) p.add(["istio", "traceSampling"], `must be a percentage from 0 to 100, got ${i.traceSampling}`);
    else if (Math.abs(i.traceSampling * 100 - Math.round(i.traceSampling * 100)) > 1e-9) p.add(["istio", "traceSampling"], `pilot samples to 0.01 percent, got ${i.traceSampling}`);

    if (!Number.isInteger(t.reportBatchMaxEntries) || t.reportBatchMaxEntries < BATCH_ENTRIES.min || t.reportBatchMaxEntries > BATCH_ENTRIES.max) {
        p.add(["istio", "mixer", "telemetry", "reportBatchMaxEntries"], `must be an integer from ${BATCH_ENTRIES.min} to ${BATCH_ENTRIES.max}, got ${t.reportBatchMaxEntries}`);
    }
    const batchMs = durationMs(t.reportBatchMaxTime);
    if (batchMs < BATCH_TIME_MS.min || batchMs > BATCH_TIME_MS.max) {
        p.add(["istio", "mixer", "telemetry", "reportBatchMaxTime"], `must be from 1ms to 1m, got ${t.reportBatchMaxTime}`);
    }
    const scaled: Array<[Array<string>, { autoscaleMin: number; autoscaleMax: number }]> = [
        [["istio", "mixer", "telemetry"], t],
        [["istio", "mixer", "policy"], i.mixer.policy],
        [["istio", "pilot"], i.pilot],
        [["istio", "ingressGateway"], i.ingressGateway],
    ];
    for (const [path, s] of scaled) {
        if (s.autoscaleMax < s.autoscaleMin) p.add([...path, "autoscaleMax"], `must be at least autoscaleMin (${s.autoscaleMin}), got ${s.autoscaleMax}`);
    }
    if (i.podDisruptionBudgets) {
        for (const d of budgetedDeployments(i)) {
            if (d.replicas < 2) {
                p.add(d.key, `with istio.podDisruptionBudgets the chart keeps at least 1 ${d.deployment} pod available, so \`kubectl drain\` can never evict a single one: set at least 2 (spread over nodes with istio.spreadOverNodes), or turn istio.podDisruptionBudgets off`);
            }
        }
    }
    if (i.mixer.policyChecks && !i.mixer.policy.enabled) {
        p.add(["istio", "mixer", "policyChecks"], "policy checks need Mixer policy: set istio.mixer.policy.enabled to true, or policyChecks to false");
    }
    const seen = new Set<string>();
    i.injectNamespaces.forEach((ns, k) => {
        if (NO_INJECTION.includes(ns)) p.add(["istio", "injectNamespaces", k], `${ns} must not get sidecar injection`);
        if (seen.has(ns)) p.add(["istio", "injectNamespaces", k], `duplicate namespace ${ns}`);
        seen.add(ns);
    });
    const g = i.ingressGateway;
    for (const key of ["httpNodePort", "httpsNodePort"] as const) {
        if (g[key] < NODE_PORT_RANGE.min || g[key] > NODE_PORT_RANGE.max) {
            p.add(["istio", "ingressGateway", key], `must be in the NodePort range ${NODE_PORT_RANGE.min} to ${NODE_PORT_RANGE.max}, got ${g[key]}`);
        }
    }
    if (g.httpNodePort === g.httpsNodePort) p.add(["istio", "ingressGateway", "httpsNodePort"], `must differ from httpNodePort (${g.httpNodePort})`);
}

/**
 * ExternalIPs puts the workers' addresses in the chart's values: they must be static
 * (nodes[].ip), so that `pulumi preview` knows them and the Service does not move with a lease.
 */
export function checkIstioNodes(cfg: Pick<StackConfig, "istio" | "nodes">, p: Problems): void {
    if (cfg.istio.ingressGateway.exposure !== "ExternalIPs") return;
    const workers = cfg.nodes.map((n, k) => ({ n, k })).filter(({ n }) => n.role === "worker");
    if (workers.length === 0) p.add(["istio", "ingressGateway", "exposure"], "ExternalIPs needs workers to answer on; there are none");
    for (const { n, k } of workers) {
        if (n.ip === undefined) p.add(["nodes", k, "ip"], `istio.ingressGateway.exposure ExternalIPs answers on the workers' static addresses; ${n.name} has none (DHCP): give it an ip, or use the NodePort exposure`);
    }
}

// Rules for the Istio settings that the schema alone cannot say.
import { Problems } from "../../stacks/problems";
import { StackConfig } from "../../stacks/schema";
import { parseQuantity } from "../shared/quantity";

import { ISTIO_VERSION } from "./values";
/** Namespaces that must never get sidecars: the control plane and Kubernetes' own. */
export const NO_INJECTION = ["kube-system", "istio-system"];
/** Report batching bounds: at least one entry, and never holding reports longer than a metrics scrape (1 min). */
export const BATCH_ENTRIES = { min: 1, max: 10000 };
export const BATCH_TIME_MS = { min: 1, max: 60000 };
/** The Kubernetes default NodePort range (kube-apiserver --service-node-port-range). */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 };

/** Milliseconds of a Go duration such as 500ms, 2s, 1.5m or 1h. */
export function durationMs(text: string): number {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
    if (!m) throw new Error(`not a duration: ${text}`);
    return Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] as "ms" | "s" | "m" | "h"];
}

type Resources = StackConfig["istio"]["proxy"]["resources"];

function checkResources(r: Resources, path: Array<string | number>, p: Problems): void {
    for (const kind of ["cpu", "memory"] as const) {
        const req = parseQuantity(r.requests[kind]);
        const lim = parseQuantity(r.limits[kind]);
        if (req !== undefined && lim !== undefined && req > lim) {
            p.add([...path, "requests", kind], `request ${r.requests[kind]} is above the limit ${r.limits[kind]}`);
        }
    }
}

export function checkIstio(cfg: Pick<StackConfig, "istio">, p: Problems): void {
    const i = cfg.istio;
    if (i.version !== ISTIO_VERSION) p.add(["istio", "version"], `only Istio ${ISTIO_VERSION} is supported (its charts and CRDs are what the program installs), got ${JSON.stringify(i.version)}`);
    checkResources(i.proxy.resources, ["istio", "proxy", "resources"], p);
    const t = i.mixer.telemetry;
    checkResources(t.resources, ["istio", "mixer", "telemetry", "resources"], p);
    if (!(i.traceSampling >= 0 && i.traceSampling <= 100)) p.add(["istio", "traceSampling"], `must be a percentage from 0 to 100, got ${i.traceSampling}`);
    if (!Number.isInteger(t.reportBatchMaxEntries) || t.reportBatchMaxEntries < BATCH_ENTRIES.min || t.reportBatchMaxEntries > BATCH_ENTRIES.max) {
        p.add(["istio", "mixer", "telemetry", "reportBatchMaxEntries"], `must be an integer from ${BATCH_ENTRIES.min} to ${BATCH_ENTRIES.max}, got ${t.reportBatchMaxEntries}`);
    }
    const batchMs = durationMs(t.reportBatchMaxTime);
    if (batchMs < BATCH_TIME_MS.min || batchMs > BATCH_TIME_MS.max) {
        p.add(["istio", "mixer", "telemetry", "reportBatchMaxTime"], `must be from 1ms to 1m, got ${t.reportBatchMaxTime}`);
    }
    if (t.autoscaleMin < 1) p.add(["istio", "mixer", "telemetry", "autoscaleMin"], `must be at least 1, got ${t.autoscaleMin}`);
    if (t.autoscaleMax < t.autoscaleMin) p.add(["istio", "mixer", "telemetry", "autoscaleMax"], `must be at least autoscaleMin (${t.autoscaleMin}), got ${t.autoscaleMax}`);
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

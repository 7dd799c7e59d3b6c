// Reading Kubernetes and Istio objects out of resources' props.
import { asArray, asRecord, at, groupOf, isRecord, kindOf, PolicyResource } from "./types";

/** Istio 1.3's root namespace (meshConfig.rootNamespace): rules there apply mesh-wide. */
export const ISTIO_ROOT_NAMESPACE = "istio-system";

export const NETWORKING = "networking.istio.io";
export const AUTHENTICATION = "authentication.istio.io";

export function ofKind(resources: ReadonlyArray<PolicyResource>, group: string, kind: string): PolicyResource[] {
    return resources.filter((r) => groupOf(r.type) === group && kindOf(r.type) === kind);
}

export const nameOf = (r: PolicyResource): string => String(at(r.props, "metadata", "name") ?? r.name);
export const namespaceOf = (r: PolicyResource): string | undefined => {
    const ns = at(r.props, "metadata", "namespace");
    return typeof ns === "string" ? ns : undefined;
};
export const annotationsOf = (r: PolicyResource): Record<string, unknown> => asRecord(at(r.props, "metadata", "annotations"));

/** `DestinationRule bookinfo/reviews`, as a reviewer would name it. */
export function describe(r: PolicyResource): string {
    const ns = namespaceOf(r);
    return `${kindOf(r.type) ?? r.type} ${ns ? `${ns}/` : ""}${nameOf(r)}`;
}

/** Every TLS mode a DestinationRule sets: the rule's, per port, and per subset (and its ports). */
export function tlsModes(dr: PolicyResource): string[] {
    const policies = [at(dr.props, "spec", "trafficPolicy"), ...asArray(at(dr.props, "spec", "subsets")).map((s) => at(s, "trafficPolicy"))];
    const modes: string[] = [];
    for (const p of policies) {
        const mode = at(p, "tls", "mode");
        if (typeof mode === "string") modes.push(mode);
        for (const port of asArray(at(p, "portLevelSettings"))) {
            const m = at(port, "tls", "mode");
            if (typeof m === "string") modes.push(m);
        }
    }
    return modes;
}

/**
 * A host as `name.namespace` when it names a service of the cluster (short names resolve in the
 * object's namespace, as Istio 1.3 does), otherwise as written.
 */
export function serviceHost(host: string, namespace: string | undefined): string {
    if (host.includes("*")) return host;
    const svc = /^([^.]+)\.([^.]+)\.svc(\..+)?$/.exec(host);
    if (svc) return `${svc[1]}.${svc[2]}`;
    if (!host.includes(".") && namespace) return `${host}.${namespace}`;
    return host;
}

/** The containers (and init containers) of a workload's pod template, with where they sit. */
export function podContainers(r: PolicyResource): Array<{ container: Record<string, unknown>; where: string }> {
    const kind = kindOf(r.type);
    const podSpec =
        kind === "Pod"
            ? at(r.props, "spec")
            : kind === "CronJob"
              ? at(r.props, "spec", "jobTemplate", "spec", "template", "spec")
              : at(r.props, "spec", "template", "spec");
    if (!isRecord(podSpec)) return [];
    const out: Array<{ container: Record<string, unknown>; where: string }> = [];
    for (const field of ["initContainers", "containers"]) {
        asArray(podSpec[field]).forEach((c) => {
            if (isRecord(c)) out.push({ container: c, where: `${field === "containers" ? "container" : "init container"} ${String(c.name ?? "?")}` });
        });
    }
    return out;
}

/** Kinds whose objects run pods. */
export const WORKLOAD_KINDS = new Set(["Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"]);
export const isWorkload = (type: string): boolean => type.startsWith("kubernetes:") && WORKLOAD_KINDS.has(kindOf(type) ?? "");

/** A Helm chart or release of @pulumi/kubernetes. */
export const isHelmChart = (type: string): boolean => /^kubernetes:helm\.sh\/v\d+:(Chart|Release)$/.test(type);

/**
 * Whether a Helm resource installs Istio's `istio` chart: by name from a repository (`istio`), or
 * from a path that names it (the program's corrected chart: `<oslo-mesh cache>/istio-1.3.3/…`).
 * `istio-init` (CRDs only) is another chart.
 */
export function isIstioChart(r: PolicyResource): boolean {
    const chart = r.props.chart ?? r.props.path;
    return typeof chart === "string" && /(^|[/\\:])istio([-_./\\]|$)/i.test(chart) && !/(^|[/\\:])istio-init([-_./\\]|$)/i.test(chart);
}

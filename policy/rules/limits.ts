// CPU and memory limits on every sidecar and every control-plane component: read from the Istio
// chart's values (what each component will get, resolved as the 1.3.3 templates resolve it) and
// from every workload the chart renders when it is rendered.
import { describe, isHelmChart, isIstioChart, isWorkload, podContainers } from "./k8s";
import { at, Finding, isRecord, PolicyResource, ResourceRule, undetermined, UNKNOWN } from "./types";

/**
 * The Istio 1.3.3 chart's own defaults for the values this rule reads (install/kubernetes/helm/istio
 * at tag 1.3.3: values.yaml, which overrides charts/<sub>/values.yaml). test/policy.rules.test.ts
 * checks every entry against the release's files when ../shared/reference is present.
 */
export const ISTIO_133_DEFAULTS: Readonly<Record<string, unknown>> = {
    "global.defaultResources": { requests: { cpu: "10m" } },
    "global.proxy.resources": { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2000m", memory: "1024Mi" } },
    "global.proxy.init.resources": { limits: { cpu: "100m", memory: "50Mi" }, requests: { cpu: "10m", memory: "10Mi" } },
    "pilot.enabled": true,
    "pilot.resources": { requests: { cpu: "500m", memory: "2048Mi" } },
    "mixer.policy.enabled": true,
    "mixer.telemetry.enabled": true,
    "mixer.telemetry.resources": { requests: { cpu: "1000m", memory: "1G" }, limits: { cpu: "4800m", memory: "4G" } },
    "galley.enabled": true,
    "security.enabled": true,
    "sidecarInjectorWebhook.enabled": true,
    "prometheus.enabled": true,
    "gateways.enabled": true,
    "gateways.istio-ingressgateway.enabled": true,
    "gateways.istio-ingressgateway.resources": { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2000m", memory: "1024Mi" } },
    "gateways.istio-egressgateway.enabled": false,
    "gateways.istio-egressgateway.resources": { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2000m", memory: "1024Mi" } },
    "gateways.istio-ilbgateway.enabled": false,
    "gateways.istio-ilbgateway.resources": { requests: { cpu: "800m", memory: "512Mi" } },
    "tracing.enabled": false,
    "tracing.provider": "jaeger",
    "tracing.zipkin.resources": { limits: { cpu: "300m", memory: "900Mi" }, requests: { cpu: "150m", memory: "900Mi" } },
    "grafana.enabled": false,
    "kiali.enabled": false,
    "nodeagent.enabled": false,
    "istiocoredns.enabled": false,
    "certmanager.enabled": false,
};

/** A control-plane component: when it is deployed, and where its container's resources come from, first match wins (else global.defaultResources). */
interface Component {
    readonly name: string;
    readonly enabledBy: ReadonlyArray<string>;
    readonly resources: ReadonlyArray<string>;
}

function components(values: Record<string, unknown>): Component[] {
    const list: Component[] = [
        { name: "pilot", enabledBy: ["pilot.enabled"], resources: ["pilot.resources"] },
        { name: "Mixer policy", enabledBy: ["mixer.policy.enabled"], resources: ["mixer.policy.resources", "mixer.resources"] },
        { name: "Mixer telemetry", enabledBy: ["mixer.telemetry.enabled"], resources: ["mixer.telemetry.resources", "mixer.resources"] },
        { name: "galley", enabledBy: ["galley.enabled"], resources: ["galley.resources"] },
        { name: "citadel", enabledBy: ["security.enabled"], resources: ["security.resources"] },
        { name: "sidecar injector", enabledBy: ["sidecarInjectorWebhook.enabled"], resources: ["sidecarInjectorWebhook.resources"] },
        { name: "prometheus", enabledBy: ["prometheus.enabled"], resources: ["prometheus.resources"] },
        { name: "grafana", enabledBy: ["grafana.enabled"], resources: ["grafana.resources"] },
        { name: "kiali", enabledBy: ["kiali.enabled"], resources: ["kiali.resources"] },
        { name: "node agent", enabledBy: ["nodeagent.enabled"], resources: ["nodeagent.resources"] },
        { name: "istiocoredns", enabledBy: ["istiocoredns.enabled"], resources: ["istiocoredns.resources"] },
        { name: "cert-manager", enabledBy: ["certmanager.enabled"], resources: ["certmanager.resources"] },
    ];
    const provider = String(resolve(values, "tracing.provider") ?? "jaeger");
    list.push({ name: `tracing (${provider})`, enabledBy: ["tracing.enabled"], resources: [`tracing.${provider}.resources`] });
    const gateways = new Set(["istio-ingressgateway", "istio-egressgateway", "istio-ilbgateway", ...Object.keys(isRecord(values.gateways) ? values.gateways : {})]);
    gateways.delete("enabled");
    for (const g of gateways) {
        list.push({ name: `gateway ${g}`, enabledBy: ["gateways.enabled", `gateways.${g}.enabled`], resources: [`gateways.${g}.resources`] });
        if (resolve(values, `gateways.${g}.sds.enabled`) === true) {
            list.push({ name: `gateway ${g} SDS`, enabledBy: ["gateways.enabled", `gateways.${g}.enabled`], resources: [`gateways.${g}.sds.resources`] });
        }
    }
    return list;
}

function get(values: unknown, dotted: string): unknown {
    return at(values, ...dotted.split("."));
}

/** Helm's merge of user values over a chart's: maps merge key by key, null deletes a key. */
function merge(base: unknown, over: unknown): unknown {
    if (over === undefined) return base;
    if (!isRecord(base) || !isRecord(over)) return over;
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
        if (v === null) delete out[k];
        else out[k] = merge(base[k], v);
    }
    return out;
}

/** A value as Helm sees it: the program's value merged over the chart's default. */
function resolve(values: Record<string, unknown>, dotted: string): unknown {
    return merge(ISTIO_133_DEFAULTS[dotted], get(values, dotted));
}

const hasAny = (r: unknown) => isRecord(r) && Object.keys(r).length > 0;

/** What is missing from a resources block: e.g. ["limits.cpu"]; [] when it has both limits. */
export function missingLimits(resources: unknown): string[] {
    return ["cpu", "memory"].filter((k) => {
        const v = at(resources, "limits", k);
        return !(typeof v === "string" && v.trim() !== "") && !(typeof v === "number" && v > 0);
    }).map((k) => `limits.${k}`);
}

function checkValues(chart: PolicyResource): Finding[] {
    const values = chart.props.values;
    if (values === UNKNOWN || JSON.stringify(values ?? null).includes(UNKNOWN)) return [undetermined(`the ${chart.name} chart's values are known only after pulumi up`)];
    const v = isRecord(values) ? values : {};
    const findings: Finding[] = [];
    for (const [what, path] of [["every sidecar (istio-proxy)", "global.proxy.resources"], ["every sidecar's istio-init", "global.proxy.init.resources"]] as const) {
        const missing = missingLimits(resolve(v, path));
        if (missing.length) findings.push({ message: `${what} has no ${missing.join(" or ")}: set ${path}.limits` });
    }
    for (const c of components(v)) {
        if (!c.enabledBy.every((p) => resolve(v, p) === true)) continue;
        const chosen = c.resources.find((p) => hasAny(resolve(v, p)));
        const effective = chosen ? resolve(v, chosen) : resolve(v, "global.defaultResources");
        const missing = missingLimits(effective);
        if (missing.length) {
            const from = chosen ?? "global.defaultResources";
            findings.push({ message: `${c.name} gets no ${missing.join(" or ")} (its resources come from ${from}: ${JSON.stringify(effective ?? {})}); set ${c.resources[0]}.limits` });
        }
    }
    return findings;
}

function checkWorkload(r: PolicyResource): Finding[] {
    const findings: Finding[] = [];
    for (const { container, where } of podContainers(r)) {
        if (JSON.stringify(container.resources ?? null).includes(UNKNOWN)) {
            findings.push(undetermined(`${describe(r)} ${where}: its resources are known only after pulumi up`));
            continue;
        }
        const missing = missingLimits(container.resources);
        if (missing.length) findings.push({ message: `${describe(r)} ${where} has no ${missing.join(" or ")}` });
    }
    return findings;
}

export const resourceLimits: ResourceRule = {
    kind: "resource",
    name: "resource-limits",
    description: "Every sidecar and every control-plane component has CPU and memory limits: in the Istio chart's values, and in every workload the chart renders.",
    enforcementLevel: "mandatory",
    appliesTo: (type) => isHelmChart(type) || isWorkload(type),
    check(r) {
        if (isHelmChart(r.type)) return isIstioChart(r) ? checkValues(r) : [];
        return checkWorkload(r);
    },
};

// The Helm values of the Istio 1.3.3 `istio` chart, rendered from the typed stack config.
// Only paths that exist in the 1.3.3 charts are set (test/istio.test.ts checks every one
// against the release's values.yaml files: Helm ignores a misspelt key without a word), and
// test/istio.values.test.ts renders the chart with them and finds each setting on its object.
// Every value is known from the config alone, so `pulumi preview` can render the chart.
import { StackConfig } from "../../stacks/schema";
import { ISTIO_VERSION } from "./chart/release";

export { ISTIO_VERSION } from "./chart/release";
export { ISTIO_CHART_REPOSITORY } from "./chart/release";
export const ISTIO_NAMESPACE = "istio-system";

export interface ValuesInput {
    readonly istio: StackConfig["istio"];
    readonly mtlsMode: StackConfig["mesh"]["mtls"]["mode"];
    /** The workers' static public IPs (nodes[].ip), for the ExternalIPs exposure only. */
    readonly workerIps: ReadonlyArray<string>;
    /** The cluster's DNS domain (kubernetes.clusterDomain), which the proxies must know. */
    readonly clusterDomain: string;
}

type Istio = StackConfig["istio"];
type Resources = { requests: { cpu: string; memory: string }; limits?: { cpu: string; memory: string } };
const resources = (r: Resources) => ({ requests: { ...r.requests }, ...(r.limits ? { limits: { ...r.limits } } : {}) });

/**
 * Preferred (never required) anti-affinity on the node: replicas spread when they can, and a
 * rolling update or a drain on few nodes never waits for a node that does not exist.
 * The chart turns `key`/`operator`/`values` into a podAffinityTerm on topologyKey.
 */
const spread = (label: string, values: string) => [{ key: label, operator: "In", values, topologyKey: "kubernetes.io/hostname" }];

const autoscaling = (a: { autoscaleMin: number; autoscaleMax: number; cpu: { targetAverageUtilization: number } }) => ({
    autoscaleMin: a.autoscaleMin,
    autoscaleMax: a.autoscaleMax,
    cpu: { targetAverageUtilization: a.cpu.targetAverageUtilization },
});

const mixerScaling = (m: Istio["mixer"]["telemetry"] | Istio["mixer"]["policy"]) => ({
    ...autoscaling(m),
    autoscaleEnabled: m.autoscaleEnabled,
    replicaCount: m.replicaCount,
});

/**
 * pilot.traceSampling as the pilot template needs it. The template writes PILOT_TRACE_SAMPLING
 * only `if .Values.traceSampling`, and pilot reads a missing variable as 100%
 * (pilot/pkg/features/pilot.go at 1.3.3): 0 would trace everything. A string is never falsy
 * in a template, and pilot parses it as the same float.
 */
export function traceSamplingValue(percent: number): string {
    return String(percent);
}

/** The values, as the chart reads them. */
export function renderIstioValues(input: ValuesInput): Record<string, unknown> {
    const i = input.istio;
    const t = i.mixer.telemetry;
    const p = i.mixer.policy;
    const g = i.ingressGateway;
    const nodePort = g.exposure === "NodePort";
    const spreading = i.spreadOverNodes;
    return {
        global: {
            // The chart repository's 1.3.3 images, pinned rather than left to the chart's defaults.
            hub: "docker.io/istio",
            tag: ISTIO_VERSION,
            proxy: {
                resources: resources(i.proxy.resources),
                init: { resources: resources(i.proxy.init.resources) },
                concurrency: i.proxy.concurrency,
                logLevel: i.proxy.logLevel,
                accessLogFile: i.accessLogFile,
                accessLogEncoding: i.proxy.accessLogEncoding,
                clusterDomain: input.clusterDomain,
            },
            disablePolicyChecks: !i.mixer.policyChecks,
            policyCheckFailOpen: i.mixer.policyCheckFailOpen,
            enableTracing: i.tracing.enabled,
            mtls: { enabled: input.mtlsMode === "STRICT" },
            defaultPodDisruptionBudget: { enabled: i.podDisruptionBudgets },
        },
        pilot: {
            traceSampling: traceSamplingValue(i.traceSampling),
            resources: resources(i.pilot.resources),
            env: { PILOT_PUSH_THROTTLE: i.pilot.env.PILOT_PUSH_THROTTLE },
            ...autoscaling(i.pilot),
            ...(spreading ? { podAntiAffinityTermLabelSelector: spread("istio", "pilot") } : {}),
        },
        galley: {
            replicaCount: i.galley.replicaCount,
            ...(spreading ? { podAntiAffinityTermLabelSelector: spread("istio", "galley") } : {}),
        },
        mixer: {
            // The chart's value is a string ("6"): it lands in the pod's environment as is.
            env: { GOMAXPROCS: String(i.mixer.env.GOMAXPROCS) },
            policy: { enabled: p.enabled, ...(p.resources ? { resources: resources(p.resources) } : {}), ...mixerScaling(p) },
            telemetry: {
                enabled: t.enabled,
                resources: resources(t.resources),
                reportBatchMaxEntries: t.reportBatchMaxEntries,
                reportBatchMaxTime: t.reportBatchMaxTime,
                loadshedding: { mode: t.loadshedding.mode, latencyThreshold: t.loadshedding.latencyThreshold },
                ...mixerScaling(t),
            },
            adapters: { prometheus: { metricsExpiryDuration: i.mixer.adapters.prometheus.metricsExpiryDuration } },
            // Policy and telemetry share the Mixer chart's selector: spread every Mixer pod.
            ...(spreading ? { podAntiAffinityTermLabelSelector: spread("istio", "mixer") } : {}),
        },
        tracing: { enabled: i.tracing.enabled },
        // The mesh-wide policy belongs to the program (components/mesh), not to the chart's post-install Job.
        security: { createMeshPolicy: false },
        sidecarInjectorWebhook: {
            enabled: true,
            replicaCount: i.sidecarInjector.replicaCount,
            // With STRICT mTLS the kubelet's HTTP probes would hit the sidecar's mTLS port: rewrite them.
            rewriteAppHTTPProbe: input.mtlsMode === "STRICT",
            ...(spreading ? { podAntiAffinityTermLabelSelector: spread("istio", "sidecar-injector") } : {}),
        },
        gateways: {
            "istio-ingressgateway": {
                enabled: true,
                type: nodePort ? "NodePort" : "ClusterIP",
                // Only what the exposure needs: NodePort takes no addresses.
                ...(nodePort ? {} : { externalIPs: [...input.workerIps] }),
                ports: [
                    { port: 15020, targetPort: 15020, name: "status-port" },
                    { port: 80, targetPort: 80, name: "http2", ...(nodePort ? { nodePort: g.httpNodePort } : {}) },
                    { port: 443, name: "https", ...(nodePort ? { nodePort: g.httpsNodePort } : {}) },
                    { port: 15443, targetPort: 15443, name: "tls" },
                ],
                resources: resources(g.resources),
                ...autoscaling(g),
                ...(spreading ? { podAntiAffinityTermLabelSelector: spread("istio", "ingressgateway") } : {}),
            },
            "istio-egressgateway": { enabled: false },
        },
    };
}

/** TCP ports the nodes must open to the world for the ingress gateway. */
export function ingressPorts(istio: StackConfig["istio"]): string[] {
    return istio.ingressGateway.exposure === "NodePort" ? ["30000:32767"] : ["80", "443"];
}

/** The workers' static IPs, for the ExternalIPs exposure (checkIstioNodes requires them). */
export function workerStaticIps(nodes: StackConfig["nodes"]): string[] {
    return nodes.filter((n) => n.role === "worker" && n.ip !== undefined).map((n) => n.ip!);
}

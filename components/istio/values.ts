// The Helm values of the Istio 1.3.3 `istio` chart, rendered from the typed stack config.
// Only paths that exist in the 1.3.3 charts are set (test/istio.test.ts checks every one
// against the release's values.yaml files: Helm ignores a misspelt key without a word).
import { StackConfig } from "../../stacks/schema";

export const ISTIO_VERSION = "1.3.3";
export const ISTIO_CHART_REPO = "https://storage.googleapis.com/istio-release/releases/1.3.3/charts/";
export const ISTIO_NAMESPACE = "istio-system";

export interface ValuesInput {
    readonly istio: StackConfig["istio"];
    readonly mtlsMode: StackConfig["mesh"]["mtls"]["mode"];
    /** The nodes' public IPs, for the ExternalIPs exposure of the ingress gateway. */
    readonly externalIps: ReadonlyArray<string>;
    /** The cluster's DNS domain (kubernetes.clusterDomain), which the proxies must know. */
    readonly clusterDomain: string;
}

type Resources = StackConfig["istio"]["proxy"]["resources"];
const resources = (r: Resources) => ({ requests: { ...r.requests }, limits: { ...r.limits } });

/** The values, as the chart reads them. */
export function renderIstioValues(input: ValuesInput): Record<string, unknown> {
    const i = input.istio;
    const t = i.mixer.telemetry;
    const g = i.ingressGateway;
    const nodePort = g.exposure === "NodePort";
    return {
        global: {
            // The chart repository's 1.3.3 images, pinned rather than left to the chart's defaults.
            hub: "docker.io/istio",
            tag: ISTIO_VERSION,
            proxy: { resources: resources(i.proxy.resources), accessLogFile: i.accessLogFile, clusterDomain: input.clusterDomain },
            disablePolicyChecks: !i.mixer.policyChecks,
            policyCheckFailOpen: i.mixer.policyCheckFailOpen,
            enableTracing: i.tracing.enabled,
            mtls: { enabled: input.mtlsMode === "STRICT" },
        },
        mixer: {
            policy: { enabled: i.mixer.policy.enabled },
            telemetry: {
                enabled: t.enabled,
                resources: resources(t.resources),
                reportBatchMaxEntries: t.reportBatchMaxEntries,
                reportBatchMaxTime: t.reportBatchMaxTime,
                loadshedding: { mode: t.loadshedding.mode, latencyThreshold: t.loadshedding.latencyThreshold },
                autoscaleMin: t.autoscaleMin,
                autoscaleMax: t.autoscaleMax,
            },
        },
        pilot: { traceSampling: i.traceSampling },
        tracing: { enabled: i.tracing.enabled },
        // The mesh-wide policy belongs to the program (components/mesh), not to the chart's post-install Job.
        security: { createMeshPolicy: false },
        // With STRICT mTLS the kubelet's HTTP probes would hit the sidecar's mTLS port: rewrite them.
        sidecarInjectorWebhook: { enabled: true, rewriteAppHTTPProbe: input.mtlsMode === "STRICT" },
        gateways: {
            "istio-ingressgateway": {
                enabled: true,
                type: nodePort ? "NodePort" : "ClusterIP",
                externalIPs: nodePort ? [] : [...input.externalIps],
                ports: [
                    { port: 15020, targetPort: 15020, name: "status-port" },
                    { port: 80, targetPort: 80, name: "http2", ...(nodePort ? { nodePort: g.httpNodePort } : {}) },
                    { port: 443, name: "https", ...(nodePort ? { nodePort: g.httpsNodePort } : {}) },
                    { port: 15443, targetPort: 15443, name: "tls" },
                ],
            },
            "istio-egressgateway": { enabled: false },
        },
    };
}

/** TCP ports the nodes must open to the world for the ingress gateway. */
export function ingressPorts(istio: StackConfig["istio"]): string[] {
    return istio.ingressGateway.exposure === "NodePort" ? ["30000:32767"] : ["80", "443"];
}

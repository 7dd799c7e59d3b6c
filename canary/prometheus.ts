// Reaching Istio's Prometheus: at a URL given on the command line, or through the Kubernetes API
// server's service proxy with the stack's kubeconfig (kubeadm's admin.conf: the cluster's CA and
// a client certificate). The kubeconfig is a secret: it is held in memory only, never printed.
import * as http from "http";
import * as https from "https";
import * as jsyaml from "js-yaml";
import { PROMETHEUS_SERVICE, QueryOutcome, readQueryAnswer } from "./promql";

export interface PrometheusEndpoint {
    /** Base URL under which /api/v1/query answers. */
    readonly base: URL;
    /** TLS client settings for the API server. */
    readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
    readonly bearerToken?: string;
    /** How to name it in messages (never with credentials). */
    readonly describe: string;
}

export function endpointFromUrl(url: string): PrometheusEndpoint {
    const base = new URL(url.endsWith("/") ? url : `${url}/`);
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error(`--prometheus-url must be http(s), got ${base.protocol}`);
    return { base, describe: base.origin + base.pathname };
}

interface Kubeconfig {
    "current-context"?: string;
    contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
    clusters?: Array<{ name: string; cluster: { server: string; "certificate-authority-data"?: string } }>;
    users?: Array<{ name: string; user: { "client-certificate-data"?: string; "client-key-data"?: string; token?: string } }>;
}

/** The API server of a kubeconfig's current context and the credentials to reach it (kept in memory only). */
export interface ApiServer {
    /** Its URL, without a trailing slash. */
    readonly server: string;
    readonly tls: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
    readonly bearerToken?: string;
}

/** The API server of the stack's kubeconfig output (kubeadm's admin.conf: the cluster's CA and a client certificate). */
export function apiServerFromKubeconfig(text: string): ApiServer {
    const kc = jsyaml.load(text) as Kubeconfig;
    if (!kc || typeof kc !== "object") throw new Error("the stack's kubeconfig output is not a kubeconfig");
    const ctxName = kc["current-context"] ?? kc.contexts?.[0]?.name;
    const ctx = kc.contexts?.find((c) => c.name === ctxName)?.context;
    const cluster = kc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster ?? (ctx ? undefined : kc.clusters?.[0]?.cluster);
    const user = kc.users?.find((u) => u.name === ctx?.user)?.user ?? (ctx ? undefined : kc.users?.[0]?.user);
    if (!cluster?.server) throw new Error("the stack's kubeconfig names no API server for its current context");
    const b64 = (s?: string) => (s === undefined ? undefined : Buffer.from(s, "base64"));
    return {
        server: cluster.server.replace(/\/+$/, ""),
        tls: { ca: b64(cluster["certificate-authority-data"]), cert: b64(user?.["client-certificate-data"]), key: b64(user?.["client-key-data"]) },
        bearerToken: user?.token,
    };
}

/**
 * The API server's proxy to the chart's Prometheus service:
 * /api/v1/namespaces/istio-system/services/http:prometheus:9090/proxy/ ("scheme:name:port", as
 * ResourceLocation in kubernetes pkg/registry/core/service/storage/rest.go accepts it).
 */
export function endpointFromKubeconfig(text: string): PrometheusEndpoint {
    const { server, tls, bearerToken } = apiServerFromKubeconfig(text);
    const { namespace, name, port } = PROMETHEUS_SERVICE;
    return {
        base: new URL(`${server}/api/v1/namespaces/${namespace}/services/http:${name}:${port}/proxy/`),
        tls,
        bearerToken,
        describe: `${server} (service proxy to ${namespace}/${name}:${port})`,
    };
}

/** Prometheus could not be asked at all (connection, TLS, timeout, the proxy's own errors). */
export class Unreachable extends Error {}

/** One instant query at `timeSeconds`; throws Unreachable when no Prometheus answered. */
export function instantQuery(ep: PrometheusEndpoint, promql: string, timeSeconds: number, timeoutMs = 10_000): Promise<QueryOutcome> {
    const url = new URL("api/v1/query", ep.base);
    url.searchParams.set("query", promql);
    url.searchParams.set("time", timeSeconds.toFixed(3));
    const lib = url.protocol === "https:" ? https : http;
    const headers: Record<string, string> = { Accept: "application/json" };
    if (ep.bearerToken) headers.Authorization = `Bearer ${ep.bearerToken}`;
    return new Promise((resolve, reject) => {
        const req = lib.get(url, { headers, timeout: timeoutMs, ...(url.protocol === "https:" ? { ...ep.tls, agent: false } : {}) }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", (e) => reject(new Unreachable(`${ep.describe}: ${e.message}`)));
            res.on("end", () => {
                const body = Buffer.concat(chunks).toString("utf8");
                const status = res.statusCode ?? 0;
                if (!isPrometheusAnswer(body)) {
                    reject(new Unreachable(`${ep.describe} answered HTTP ${status}${kubernetesMessage(body)}`));
                    return;
                }
                resolve(readQueryAnswer(status, body));
            });
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)));
        req.on("error", (e) => reject(new Unreachable(`${ep.describe}: ${e.message}`)));
    });
}

/** Prometheus always answers JSON with status "success" or "error"; anything else came from elsewhere. */
function isPrometheusAnswer(body: string): boolean {
    try {
        const s = (JSON.parse(body) as { status?: unknown }).status;
        return s === "success" || s === "error";
    } catch {
        return false;
    }
}

/** The message of a Kubernetes Status (the API server's own errors, e.g. no endpoints for the service). */
function kubernetesMessage(body: string): string {
    try {
        const s = JSON.parse(body) as { kind?: string; message?: string };
        if (s.kind === "Status" && s.message) return `: ${s.message}`;
    } catch {
        /* not JSON */
    }
    return "";
}

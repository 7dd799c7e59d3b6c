// Pure renders of the mesh's Istio 1.3 objects from the stack config. For the same intent they
// equal what Istio 1.3 publishes: the security chart's mesh-wide mTLS objects and the bookinfo
// samples' routes (test/mesh.test.ts compares them field by field).
import { EXCEPTION_EXPIRES, EXCEPTION_OWNER, PROGRESSION_STEPS, PROGRESSION_SUBSET } from "../../policy/rules/annotations";
import { StackConfig } from "../../stacks/schema";
import { AUTHENTICATION_API_VERSION, NETWORKING_API_VERSION } from "./crds/apiVersions";
import type { PolicySpec } from "./crds/authentication";
import type { DestinationRuleSpec, GatewaySpec, HTTPRoute, ObjectMeta, VirtualServiceSpec } from "./crds/networking";

export type MtlsConfig = StackConfig["mesh"]["mtls"];
export type CanaryConfig = StackConfig["canaries"][number];
export type IngressConfig = NonNullable<StackConfig["mesh"]["ingress"]>;

export interface MeshObject<S = unknown> {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: ObjectMeta;
    readonly spec: S;
}

/** Istio's root namespace: DestinationRules there apply to every namespace. */
export const ROOT_NAMESPACE = "istio-system";

/** A rendered object and the config entry it comes from (for messages about derived names). */
export interface Derived<S = unknown> {
    readonly path: ReadonlyArray<string | number>;
    readonly object: MeshObject<S>;
}

/**
 * The host of the mesh-wide ISTIO_MUTUAL rule. Pilot names every service
 * `<svc>.<ns>.svc.<domain>` (ServiceHostname, pilot/pkg/serviceregistry/kube/conversion.go at
 * 1.3.3, with `--domain` = kubernetes.clusterDomain) and a wildcard host matches by suffix
 * (pkg/config/host/name.go): the security chart's `*.local` covers `cluster.local` only.
 */
export function meshWideHost(clusterDomain: string): string {
    return clusterDomain === "local" || clusterDomain.endsWith(".local") ? "*.local" : `*.${clusterDomain}`;
}

/** Whether an mTLS exception covers this service (the service itself, or its whole namespace). */
export function isExcepted(mtls: MtlsConfig, namespace: string, service: string): boolean {
    return mtls.exceptions.some((e) => e.namespace === namespace && (e.service === undefined || e.service === service));
}

/**
 * The TLS mode a service's own DestinationRule must carry. Istio 1.3 takes the rule in the
 * service's namespace before the root namespace's, so a canary's rule replaces both the
 * mesh-wide ISTIO_MUTUAL and an exception's DISABLE: it carries whichever applies.
 */
export function canaryTlsMode(c: Pick<CanaryConfig, "namespace" | "service">, mtls: MtlsConfig): "ISTIO_MUTUAL" | "DISABLE" | undefined {
    if (mtls.mode === "DISABLE") return undefined;
    if (isExcepted(mtls, c.namespace, c.service)) return "DISABLE";
    return mtls.mode === "STRICT" ? "ISTIO_MUTUAL" : undefined;
}

const networking = <S>(kind: string, metadata: ObjectMeta, spec: S): MeshObject<S> => ({ apiVersion: NETWORKING_API_VERSION, kind, metadata, spec });
const authentication = (kind: string, metadata: ObjectMeta, spec: PolicySpec): MeshObject<PolicySpec> => ({ apiVersion: AUTHENTICATION_API_VERSION, kind, metadata, spec });
const tlsRule = (name: string, host: string, mode: "ISTIO_MUTUAL" | "DISABLE", annotations?: Record<string, string>) =>
    networking<DestinationRuleSpec>("DestinationRule", { name, namespace: ROOT_NAMESPACE, ...(annotations ? { annotations } : {}) }, { host, trafficPolicy: { tls: { mode } } });

/** An exception's owner and expiry, stamped on its objects for the policy pack (policy/rules/mtls.ts). */
function exceptionAnnotations(e: MtlsConfig["exceptions"][number]): Record<string, string> | undefined {
    const a = { ...(e.owner !== undefined ? { [EXCEPTION_OWNER]: e.owner } : {}), ...(e.expires !== undefined ? { [EXCEPTION_EXPIRES]: e.expires } : {}) };
    return Object.keys(a).length ? a : undefined;
}

/**
 * Mesh-wide mTLS as Istio 1.3's security chart renders it: STRICT is the MeshPolicy `default`
 * plus ISTIO_MUTUAL towards every mesh host (meshWideHost) and plain TLS-off towards the API
 * server; PERMISSIVE is the MeshPolicy alone; DISABLE is no policy at all. Each exception is a
 * Policy without peers (plaintext accepted) and a DestinationRule that turns client-side mTLS
 * off towards it.
 */
export function renderMtlsEntries(mtls: MtlsConfig, clusterDomain: string): Derived[] {
    if (mtls.mode === "DISABLE") return [];
    const mode = ["mesh", "mtls", "mode"];
    const out: Derived[] = [{ path: mode, object: authentication("MeshPolicy", { name: "default" }, { peers: [{ mtls: mtls.mode === "STRICT" ? {} : { mode: "PERMISSIVE" } }] }) }];
    if (mtls.mode === "STRICT") {
        out.push({ path: mode, object: tlsRule("default", meshWideHost(clusterDomain), "ISTIO_MUTUAL") });
        out.push({ path: mode, object: tlsRule("api-server", `kubernetes.default.svc.${clusterDomain}`, "DISABLE") });
    }
    mtls.exceptions.forEach((e, i) => {
        const path = ["mesh", "mtls", "exceptions", i];
        const annotations = exceptionAnnotations(e);
        const meta = (name: string) => ({ name, namespace: e.namespace, ...(annotations ? { annotations } : {}) });
        if (e.service === undefined) {
            // A namespace-wide policy must be named `default`.
            out.push({ path, object: authentication("Policy", meta("default"), {}) });
            out.push({ path, object: tlsRule(`mtls-exception-${e.namespace}`, `*.${e.namespace}.svc.${clusterDomain}`, "DISABLE", annotations) });
        } else {
            out.push({ path, object: authentication("Policy", meta(`mtls-exception-${e.service}`), { targets: [{ name: e.service }] }) });
            out.push({ path, object: tlsRule(`mtls-exception-${e.namespace}-${e.service}`, `${e.service}.${e.namespace}.svc.${clusterDomain}`, "DISABLE", annotations) });
        }
    });
    return out;
}

export function renderMeshMtls(mtls: MtlsConfig, clusterDomain: string): MeshObject[] {
    return renderMtlsEntries(mtls, clusterDomain).map((d) => d.object);
}

/**
 * A canary: the DestinationRule with the subsets, and the VirtualService that splits traffic by
 * weight (testers matched by header go to their subset first). Subsets at weight 0 get no
 * traffic and no entry; a lone subset at 100 needs no weight, as in the bookinfo samples.
 * The rule carries the TLS mode that applies to the service (canaryTlsMode): a host's own rule
 * replaces the mesh default and the exceptions.
 */
export function renderCanary(c: CanaryConfig, mtls: MtlsConfig): { destinationRule: MeshObject<DestinationRuleSpec>; virtualService: MeshObject<VirtualServiceSpec> } {
    const tls = canaryTlsMode(c, mtls);
    const trafficPolicy = {
        ...(c.loadBalancer ? { loadBalancer: { simple: c.loadBalancer } } : {}),
        ...(tls ? { tls: { mode: tls } } : {}),
    };
    // Turning TLS off here is the exception's doing: the rule carries its owner and expiry too.
    const exception = tls === "DISABLE" ? mtls.exceptions.find((e) => e.namespace === c.namespace && (e.service === undefined || e.service === c.service)) : undefined;
    const annotations = exception ? exceptionAnnotations(exception) : undefined;
    const destinationRule = networking<DestinationRuleSpec>(
        "DestinationRule",
        { name: c.service, namespace: c.namespace, ...(annotations ? { annotations } : {}) },
        {
            host: c.service,
            ...(Object.keys(trafficPolicy).length ? { trafficPolicy } : {}),
            subsets: c.subsets.map((s) => ({ name: s.name, labels: { ...s.labels } })),
        },
    );
    const limits = {
        ...(c.timeout ? { timeout: c.timeout } : {}),
        ...(c.retries ? { retries: { attempts: c.retries.attempts, perTryTimeout: c.retries.perTryTimeout, ...(c.retries.retryOn ? { retryOn: c.retries.retryOn } : {}) } } : {}),
    };
    const weighted = c.subsets.filter((s) => (c.weights[s.name] ?? 0) > 0);
    const http: HTTPRoute[] = [];
    if (c.match) {
        http.push({ match: [{ headers: { ...c.match.headers } }], route: [{ destination: { host: c.service, subset: c.match.subset } }], ...limits });
    }
    http.push({
        route: weighted.map((s) => ({ destination: { host: c.service, subset: s.name }, ...(weighted.length > 1 ? { weight: c.weights[s.name] } : {}) })),
        ...limits,
    });
    const virtualService = networking<VirtualServiceSpec>("VirtualService", { name: c.service, namespace: c.namespace, ...progressionAnnotations(c) }, { hosts: [c.service], http });
    return { destinationRule, virtualService };
}

/** A progression's steps and canary subset (as `npm run canary` picks it), stamped on the route for the policy pack (policy/rules/routes.ts). */
function progressionAnnotations(c: CanaryConfig): { annotations?: Record<string, string> } {
    if (!c.progression) return {};
    const subset = c.progression.subset ?? c.subsets[c.subsets.length - 1]?.name ?? "";
    return { annotations: { [PROGRESSION_STEPS]: c.progression.steps.join(","), [PROGRESSION_SUBSET]: subset } };
}

/**
 * The ingress: a Gateway on Istio's ingress gateway and the VirtualService that sends its
 * hosts (only the configured paths, when `uris` is given) to the service.
 */
export function renderIngress(ing: IngressConfig): { gateway: MeshObject<GatewaySpec>; virtualService: MeshObject<VirtualServiceSpec> } {
    const gatewayName = ing.gatewayName ?? `${ing.service}-gateway`;
    const match = ing.uris?.length ? { match: ing.uris.map((uri) => ({ uri: { ...uri } })) } : {};
    return {
        gateway: networking<GatewaySpec>(
            "Gateway",
            { name: gatewayName, namespace: ing.namespace },
            { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: [...ing.hosts] }] },
        ),
        virtualService: networking<VirtualServiceSpec>(
            "VirtualService",
            { name: ing.virtualServiceName ?? `${ing.service}-ingress`, namespace: ing.namespace },
            { hosts: [...ing.hosts], gateways: [gatewayName], http: [{ ...match, route: [{ destination: { host: ing.service, port: { number: ing.port } } }] }] },
        ),
    };
}

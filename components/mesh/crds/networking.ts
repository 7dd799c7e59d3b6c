// networking.istio.io/v1alpha3 as of Istio 1.3 (istio.io/api networking/v1alpha3), one class
// per kind over CustomResource, in the shape crd2pulumi generates. Field names and nesting
// follow the API's JSON; only what exists in 1.3 is here.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NETWORKING_API_VERSION } from "./apiVersions";

export interface ObjectMeta {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

export interface PortSelector {
    number: number;
}

export interface Destination {
    host: string;
    subset?: string;
    port?: PortSelector;
}

export interface HTTPRouteDestination {
    destination: Destination;
    /** Percent of traffic, 0 to 100; the weights of a route sum to 100. */
    weight?: number;
}

export interface StringMatch {
    exact?: string;
    prefix?: string;
    regex?: string;
}

export interface HTTPMatchRequest {
    name?: string;
    uri?: StringMatch;
    scheme?: StringMatch;
    method?: StringMatch;
    authority?: StringMatch;
    headers?: Record<string, StringMatch>;
    port?: number;
    sourceLabels?: Record<string, string>;
    gateways?: string[];
    queryParams?: Record<string, StringMatch>;
    ignoreUriCase?: boolean;
}

export interface HTTPRetry {
    attempts: number;
    /** A duration such as 2s. */
    perTryTimeout?: string;
    /** Envoy's x-envoy-retry-on conditions, e.g. 5xx,connect-failure. */
    retryOn?: string;
}

export interface HTTPRoute {
    name?: string;
    match?: HTTPMatchRequest[];
    route?: HTTPRouteDestination[];
    /** A duration such as 10s. */
    timeout?: string;
    retries?: HTTPRetry;
}

export interface VirtualServiceSpec {
    hosts: string[];
    gateways?: string[];
    http?: HTTPRoute[];
    exportTo?: string[];
}

export interface TLSSettings {
    mode: "DISABLE" | "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL";
    clientCertificate?: string;
    privateKey?: string;
    caCertificates?: string;
    subjectAltNames?: string[];
    sni?: string;
}

export interface LoadBalancerSettings {
    simple?: "ROUND_ROBIN" | "LEAST_CONN" | "RANDOM" | "PASSTHROUGH";
}

export interface TrafficPolicy {
    loadBalancer?: LoadBalancerSettings;
    tls?: TLSSettings;
}

export interface Subset {
    name: string;
    labels: Record<string, string>;
    trafficPolicy?: TrafficPolicy;
}

export interface DestinationRuleSpec {
    host: string;
    trafficPolicy?: TrafficPolicy;
    subsets?: Subset[];
    exportTo?: string[];
}

export interface Port {
    number: number;
    protocol: "HTTP" | "HTTPS" | "GRPC" | "HTTP2" | "MONGO" | "TCP" | "TLS";
    name: string;
}

export interface Server {
    port: Port;
    hosts: string[];
    tls?: { httpsRedirect?: boolean; mode?: "PASSTHROUGH" | "SIMPLE" | "MUTUAL" | "AUTO_PASSTHROUGH" | "ISTIO_MUTUAL"; credentialName?: string };
}

export interface GatewaySpec {
    servers: Server[];
    selector: Record<string, string>;
}

export interface VirtualServiceArgs {
    metadata: pulumi.Input<ObjectMeta>;
    spec: pulumi.Input<VirtualServiceSpec>;
}
export interface DestinationRuleArgs {
    metadata: pulumi.Input<ObjectMeta>;
    spec: pulumi.Input<DestinationRuleSpec>;
}
export interface GatewayArgs {
    metadata: pulumi.Input<ObjectMeta>;
    spec: pulumi.Input<GatewaySpec>;
}

export class VirtualService extends k8s.apiextensions.CustomResource {
    static readonly kind = "VirtualService";
    constructor(name: string, args: VirtualServiceArgs, opts?: pulumi.CustomResourceOptions) {
        super(name, { apiVersion: NETWORKING_API_VERSION, kind: VirtualService.kind, ...args }, opts);
    }
}

export class DestinationRule extends k8s.apiextensions.CustomResource {
    static readonly kind = "DestinationRule";
    constructor(name: string, args: DestinationRuleArgs, opts?: pulumi.CustomResourceOptions) {
        super(name, { apiVersion: NETWORKING_API_VERSION, kind: DestinationRule.kind, ...args }, opts);
    }
}

export class Gateway extends k8s.apiextensions.CustomResource {
    static readonly kind = "Gateway";
    constructor(name: string, args: GatewayArgs, opts?: pulumi.CustomResourceOptions) {
        super(name, { apiVersion: NETWORKING_API_VERSION, kind: Gateway.kind, ...args }, opts);
    }
}

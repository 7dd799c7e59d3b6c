// authentication.istio.io/v1alpha1 as of Istio 1.3 (istio.io/api authentication/v1alpha1).
// Istio 1.3 has no security.istio.io PeerAuthentication (that came with 1.5): mesh-wide and
// per-workload mTLS are a MeshPolicy and Policies.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AUTHENTICATION_API_VERSION } from "./apiVersions";
import type { ObjectMeta } from "./networking";

export interface MutualTls {
    /** STRICT when absent. */
    mode?: "STRICT" | "PERMISSIVE";
}

export interface PeerAuthenticationMethod {
    mtls?: MutualTls;
}

export interface TargetSelector {
    name: string;
    ports?: Array<{ number?: number; name?: string }>;
}

export interface PolicySpec {
    /** Workloads the policy applies to; none means the whole namespace (the policy must then be named `default`). */
    targets?: TargetSelector[];
    /** Peer authentication; none means plaintext is accepted. */
    peers?: PeerAuthenticationMethod[];
}

export interface PolicyArgs {
    metadata: pulumi.Input<ObjectMeta>;
    spec: pulumi.Input<PolicySpec>;
}

/** The mesh-wide policy: cluster-scoped, and only the one named `default` takes effect. */
export class MeshPolicy extends k8s.apiextensions.CustomResource {
    static readonly kind = "MeshPolicy";
    constructor(name: string, args: PolicyArgs, opts?: pulumi.CustomResourceOptions) {
        super(name, { apiVersion: AUTHENTICATION_API_VERSION, kind: MeshPolicy.kind, ...args }, opts);
    }
}

export class Policy extends k8s.apiextensions.CustomResource {
    static readonly kind = "Policy";
    constructor(name: string, args: PolicyArgs, opts?: pulumi.CustomResourceOptions) {
        super(name, { apiVersion: AUTHENTICATION_API_VERSION, kind: Policy.kind, ...args }, opts);
    }
}

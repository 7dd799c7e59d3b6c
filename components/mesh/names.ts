// The names the mesh components give what they declare, in one place: the Kubernetes objects
// (kind, namespace, name) and the Pulumi resources (type and name, unique per type). Derived
// from the config, so validate.ts can refuse two entries that would derive the same one
// before anything is created.
import { StackConfig } from "../../stacks/schema";
import { Derived, renderCanary, renderIngress, renderMtlsEntries } from "./render";

export const MESH_MTLS_NAME = "mesh-mtls";
export const INGRESS_NAME = "ingress";
/** Pulumi types of the components (their children's URNs carry the parent's type, not its name). */
export const MESH_TYPES = { mtls: "oslo-mesh:mesh:MeshMtls", canary: "oslo-mesh:mesh:CanaryRoute", ingress: "oslo-mesh:mesh:IngressRoute" } as const;

/** The CanaryRoute component's name. */
export function canaryName(c: Pick<StackConfig["canaries"][number], "namespace" | "service">): string {
    return `canary-${c.namespace}-${c.service}`;
}

/** The name of a MeshMtls child for one of its objects. */
export function mtlsChildName(object: { kind: string; metadata: { name: string; namespace?: string } }, component = MESH_MTLS_NAME): string {
    return `${component}-${object.kind.toLowerCase()}-${object.metadata.namespace ?? "cluster"}-${object.metadata.name}`;
}

export interface DerivedName extends Derived {
    /** The Pulumi resource's type chain and name: what its URN is unique by. */
    readonly resource: string;
}

const urnKey = (parentType: string, kind: string, name: string) => `${parentType}$${kind}::${name}`;

/** Every object the mesh components declare, with its resource name and the config entry it comes from. */
export function derivedNames(cfg: Pick<StackConfig, "mesh" | "canaries" | "kubernetes">): DerivedName[] {
    const out: DerivedName[] = [];
    for (const d of renderMtlsEntries(cfg.mesh.mtls, cfg.kubernetes.clusterDomain)) {
        out.push({ ...d, resource: urnKey(MESH_TYPES.mtls, d.object.kind, mtlsChildName(d.object)) });
    }
    cfg.canaries.forEach((c, i) => {
        const name = canaryName(c);
        const { destinationRule, virtualService } = renderCanary(c, cfg.mesh.mtls);
        out.push({ path: ["canaries", i], object: destinationRule, resource: urnKey(MESH_TYPES.canary, "DestinationRule", `${name}-destinationrule`) });
        out.push({ path: ["canaries", i], object: virtualService, resource: urnKey(MESH_TYPES.canary, "VirtualService", `${name}-virtualservice`) });
    });
    const ing = cfg.mesh.ingress;
    if (ing) {
        const { gateway, virtualService } = renderIngress(ing);
        out.push({ path: ["mesh", "ingress"], object: gateway, resource: urnKey(MESH_TYPES.ingress, "Gateway", `${INGRESS_NAME}-gateway`) });
        out.push({ path: ["mesh", "ingress"], object: virtualService, resource: urnKey(MESH_TYPES.ingress, "VirtualService", `${INGRESS_NAME}-virtualservice`) });
    }
    return out;
}

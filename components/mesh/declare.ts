// Registers a rendered mesh object as its typed custom resource, waiting for exactly what it
// needs: the CRD of its kind and, when the program owns it, its namespace.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { crdFor, crdName } from "../istio/crds";
import { MeshPolicy, Policy, PolicyArgs } from "./crds/authentication";
import { DestinationRule, Gateway, VirtualService } from "./crds/networking";
import { MeshObject } from "./render";

/** What the mesh components need from the cluster and the Istio control plane. */
export interface MeshPrerequisites {
    /** The cluster's provider. */
    readonly provider: k8s.Provider;
    /** Istio's CRDs by name (IstioControlPlane.crds). */
    readonly crds: ReadonlyMap<string, pulumi.Resource>;
    /** Namespaces the program creates, by name (istio-system and the injected ones). */
    readonly namespaces: ReadonlyMap<string, pulumi.Resource>;
}

type Ctor = new (name: string, args: { metadata: never; spec: never }, opts?: pulumi.CustomResourceOptions) => k8s.apiextensions.CustomResource;
const CLASSES: Record<string, Ctor> = {
    VirtualService: VirtualService as unknown as Ctor,
    DestinationRule: DestinationRule as unknown as Ctor,
    Gateway: Gateway as unknown as Ctor,
    MeshPolicy: MeshPolicy as unknown as Ctor,
    Policy: Policy as unknown as Ctor,
};

export function declare(resourceName: string, obj: MeshObject, parent: pulumi.Resource, pre: MeshPrerequisites): k8s.apiextensions.CustomResource {
    const Class = CLASSES[obj.kind];
    if (!Class) throw new Error(`no typed class for ${obj.kind}`);
    const crd = pre.crds.get(crdName(crdFor(obj.apiVersion, obj.kind)));
    if (!crd) throw new Error(`the CRD for ${obj.apiVersion} ${obj.kind} is not installed`);
    const namespace = obj.metadata.namespace === undefined ? undefined : pre.namespaces.get(obj.metadata.namespace);
    const args = { metadata: obj.metadata, spec: obj.spec } as PolicyArgs;
    return new Class(resourceName, args as never, { parent, provider: pre.provider, dependsOn: namespace ? [crd, namespace] : [crd] });
}

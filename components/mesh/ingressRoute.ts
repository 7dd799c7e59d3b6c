// The public entry: a Gateway on Istio's ingress gateway and the VirtualService behind it.
import * as pulumi from "@pulumi/pulumi";
import { declare, MeshPrerequisites } from "./declare";
import { IngressConfig, renderIngress } from "./render";

export interface IngressRouteArgs extends MeshPrerequisites {
    /** `oslo-mesh:mesh.ingress`. */
    readonly ingress: IngressConfig;
}

export class IngressRoute extends pulumi.ComponentResource {
    constructor(name: string, args: IngressRouteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oslo-mesh:mesh:IngressRoute", name, {}, opts);
        const { gateway, virtualService } = renderIngress(args.ingress);
        declare(`${name}-gateway`, gateway, this, args);
        declare(`${name}-virtualservice`, virtualService, this, args);
        this.registerOutputs({ hosts: args.ingress.hosts });
    }
}

// One service's canary: subsets and a weighted route. Rollback is weight 0 on the canary and
// `pulumi up`; promotion is 100.
import * as pulumi from "@pulumi/pulumi";
import { declare, MeshPrerequisites } from "./declare";
import { CanaryConfig, MtlsConfig, renderCanary } from "./render";

export interface CanaryRouteArgs extends MeshPrerequisites {
    /** One entry of `oslo-mesh:canaries`. */
    readonly canary: CanaryConfig;
    /** `oslo-mesh:mesh.mtls`: the route's DestinationRule carries the TLS mode that applies to the service. */
    readonly mtls: MtlsConfig;
}

export class CanaryRoute extends pulumi.ComponentResource {
    constructor(name: string, args: CanaryRouteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oslo-mesh:mesh:CanaryRoute", name, {}, opts);
        const { destinationRule, virtualService } = renderCanary(args.canary, args.mtls);
        declare(`${name}-destinationrule`, destinationRule, this, args);
        declare(`${name}-virtualservice`, virtualService, this, args);
        this.registerOutputs({ weights: args.canary.weights });
    }
}

// Mesh-wide mTLS (STRICT, PERMISSIVE or DISABLE) and its exceptions, owned by the program.
// Moving from PERMISSIVE to STRICT is one config change: the MeshPolicy changes in place and
// the DestinationRules that make clients use mTLS appear.
import * as pulumi from "@pulumi/pulumi";
import { declare, MeshPrerequisites } from "./declare";
import { mtlsChildName } from "./names";
import { MtlsConfig, renderMeshMtls } from "./render";

export interface MeshMtlsArgs extends MeshPrerequisites {
    /** `oslo-mesh:mesh.mtls`. */
    readonly mtls: MtlsConfig;
    /** The cluster's DNS domain (for the API server's and the exceptions' hosts). */
    readonly clusterDomain: string;
}

export class MeshMtls extends pulumi.ComponentResource {
    constructor(name: string, args: MeshMtlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oslo-mesh:mesh:MeshMtls", name, {}, opts);
        for (const obj of renderMeshMtls(args.mtls, args.clusterDomain)) declare(mtlsChildName(obj, name), obj, this, args);
        this.registerOutputs({ mode: args.mtls.mode });
    }
}

// Knowing the deployed Kubernetes version needs state: a gate (components/shared/previewGate.ts)
// keeps the version last applied, and its provider's check() refuses a transition kubeadm cannot make. The
// engine calls check() during `pulumi preview` (and before `pulumi up` changes anything), with
// the inputs stored in the state as `olds`, so a skipped minor or a downgrade fails the preview
// with a message naming oslo-mesh:kubernetes.version before any resource is touched. Every
// upgrade step depends on the gate, so with `--skip-preview` too nothing runs past a refusal.
// Dynamic resources register as `pulumi-nodejs:dynamic/<module>:<Type>`, here
// `pulumi-nodejs:dynamic/kubernetes:VersionGate`; the provider decides with versions.ts.
import * as pulumi from "@pulumi/pulumi";
import { gateProvider, GateSpec, PreviewGate } from "../../shared/previewGate";
import { VersionGateInputs, versionVerdict } from "./versions";

export { VERSION_CONFIG_KEY, VersionGateInputs } from "./versions";

const VERSION_GATE: GateSpec = { decisionModule: require.resolve("./versions"), decide: "versionVerdict", id: "kubernetes-version", property: "version" };

/**
 * Internal. Exported for testing: the provider's check, as the engine calls it (olds: the
 * inputs in the state, or {} on first create; news: this run's inputs).
 */
export async function checkVersionGate(olds: Partial<VersionGateInputs> | undefined, news: VersionGateInputs): Promise<pulumi.dynamic.CheckResult> {
    return gateProvider(versionVerdict, VERSION_GATE.id, VERSION_GATE.property).check(olds ?? {}, news);
}

export class VersionGate extends PreviewGate {
    /** The version the cluster was last converged to. */
    declare readonly version: pulumi.Output<string>;

    constructor(name: string, args: { version: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super("kubernetes", "VersionGate", VERSION_GATE, name, { version: args.version }, opts);
    }
}

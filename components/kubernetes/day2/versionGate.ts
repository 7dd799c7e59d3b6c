// Knowing the deployed Kubernetes version needs state: a dynamic resource keeps the version
// last applied, and its provider's check() refuses a transition kubeadm cannot make. The
// engine calls check() during `pulumi preview` (and before `pulumi up` changes anything), with
// the inputs stored in the state as `olds`, so a skipped minor or a downgrade fails the preview
// with a message naming oslo-mesh:kubernetes.version before any resource is touched. Every
// upgrade step depends on the gate, so with `--skip-preview` too nothing runs past a refusal.
// Dynamic resources register as `pulumi-nodejs:dynamic/<module>:<Type>` (the SDK prefixes the
// type token), here `pulumi-nodejs:dynamic/kubernetes:VersionGate`.
import * as pulumi from "@pulumi/pulumi";
import { versionTransitionProblem } from "./versions";

export const VERSION_CONFIG_KEY = "oslo-mesh:kubernetes.version";

export interface VersionGateInputs {
    /** The Kubernetes version the stack asks for. */
    readonly version: string;
}

/**
 * Internal. Exported for testing: the provider's check, as the engine calls it (olds: the
 * inputs in the state, or {} on first create; news: this run's inputs).
 */
export async function checkVersionGate(olds: Partial<VersionGateInputs> | undefined, news: VersionGateInputs): Promise<pulumi.dynamic.CheckResult> {
    const problem = versionTransitionProblem(olds?.version, news.version);
    if (!problem) return { inputs: news };
    return { inputs: news, failures: [{ property: "version", reason: `${VERSION_CONFIG_KEY}: ${problem}` }] };
}

export const versionGateProvider: pulumi.dynamic.ResourceProvider = {
    check: (olds, news) => checkVersionGate(olds, news),
    diff: async (_id, olds, news) => ({ changes: olds.version !== news.version, replaces: [], deleteBeforeReplace: false }),
    create: async (inputs) => ({ id: "kubernetes-version", outs: { version: inputs.version } }),
    update: async (_id, _olds, news) => ({ outs: { version: news.version } }),
};

export class VersionGate extends pulumi.dynamic.Resource {
    /** The version the cluster was last converged to. */
    declare readonly version: pulumi.Output<string>;

    constructor(name: string, args: { version: pulumi.Input<string> }, opts?: pulumi.CustomResourceOptions) {
        super(versionGateProvider, name, { version: args.version }, opts, "kubernetes", "VersionGate");
    }
}

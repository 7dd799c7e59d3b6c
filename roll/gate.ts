// The rollout gate: a dynamic resource (components/shared/previewGate.ts) whose state is every
// node's recipe as last applied. Its check refuses, at preview, a `pulumi up` that would replace
// more than one wave of nodes (roll/rules.ts), and every VM waits for it, so nothing is replaced
// past a refusal, with --skip-preview too. It registers as
// `pulumi-nodejs:dynamic/rollout:RolloutGate` (the SDK prefixes dynamic types), named `rollout-gate`.
import * as pulumi from "@pulumi/pulumi";
import { GateSpec, PreviewGate } from "../components/shared/previewGate";
import { KvmVps } from "../components/vps";
import { RolloutGateInputs, waveFromEnv } from "./rules";

export const ROLLOUT_GATE_NAME = "rollout-gate";
export const ROLLOUT_GATE_TYPE = "pulumi-nodejs:dynamic/rollout:RolloutGate";

const ROLLOUT_GATE: GateSpec = { decisionModule: require.resolve("./rules"), decide: "rolloutVerdict", id: "rollout" };

export class RolloutGate extends PreviewGate {
    constructor(name: string, args: RolloutGateInputs, opts?: pulumi.CustomResourceOptions) {
        super("rollout", "RolloutGate", ROLLOUT_GATE, name, { ...args }, opts);
    }
}

export interface GatedNodesArgs {
    readonly stack: string;
    readonly maxUnavailable: number;
    /** The process environment: `npm run roll` names its wave in OSLO_MESH_ROLL_WAVE. */
    readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Creates the nodes behind the gate. The gate's inputs are the nodes' recipes, which only the
 * nodes know, and every VM must wait for the gate: the nodes are made with a dependency that the
 * gate fills in once it exists.
 */
export function gatedNodes(args: GatedNodesArgs, create: (opts: pulumi.ComponentResourceOptions) => KvmVps[]): { nodes: KvmVps[]; gate: RolloutGate } {
    let open!: (gate: pulumi.Resource[]) => void;
    const opened = new Promise<pulumi.Resource[]>((resolve) => (open = resolve));
    const nodes = create({ dependsOn: opened });
    const first = nodes.find((n) => n.role === "control-plane");
    const wave = waveFromEnv(args.env ?? process.env);
    const gate = new RolloutGate(ROLLOUT_GATE_NAME, {
        stack: args.stack,
        first: first?.nodeName ?? "",
        maxUnavailable: args.maxUnavailable,
        nodes: Object.fromEntries(nodes.map((n) => [n.nodeName, { role: n.role, recipe: n.recipeDigest }])),
        ...(wave === undefined ? {} : { wave }),
    });
    open([gate]);
    return { nodes, gate };
}

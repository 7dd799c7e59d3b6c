// A node's steps follow its machine. Every step that lives on a node (preparing it, its firewall,
// admitting, joining and registering it, and the day-2 timers on it) takes the node's recipe
// digest among its `triggers`, with deleteBeforeReplace:
//
// - @pulumi/command 1.2.1 replaces a command whose `triggers` change: its SDK registers every
//   Command with replaceOnChanges ["triggers[*]"] (sdk/nodejs/remote/command.ts), and its provider
//   marks `triggers` replaceOnChanges (provider/pkg/provider/common/inputs.go), which the
//   pulumi-go-provider infer Diff turns into a replace of a whole-value change (infer/resource.go
//   at v1.3.0, forceReplace). The digest is known at preview, so `pulumi preview` and the plan
//   diff show each of these steps as a replacement.
// - The trigger carries the VM (and the step before it on the node) as a property dependency.
//   When the VM is replaced with deleteBeforeReplace, Pulumi's engine (pkg/resource/deploy/
//   step_generator.go at v3.248.0, continueStepsFromDiff and calculateDependentReplacements)
//   walks the VM's dependents in the state's topological order, keeps those whose inputs depend
//   on a resource being replaced and whose provider says that makes them replace (a computed
//   `triggers` does), and emits, as one chain that the step executor runs in order
//   (step_executor.go executeChain), the deletes of those dependents in reverse order, then the
//   VM's delete, then its create. The steps register again once the new VM exists and are
//   created as replacements ("recreating": Case 1 of continueStepsFromImport), in the program's
//   order. So the old node leaves the cluster the way removal does, before its VM goes:
//   `registered` drains it, `join` runs kubeadm reset on it, `admit` deletes the Node and checks
//   etcd's member list; then the new VM is prepared, firewalled, admitted, joined and registered.
// - Each step's trigger also depends on the step before it on the node (join on admit, prepare
//   and firewall; registered on join), so that kubeadm's order holds whichever of them the engine
//   replaces first, also for an inventory node, which has no VM.
import * as pulumi from "@pulumi/pulumi";
import { KvmVps } from "../components/vps";

/** What a step on a node's machine carries as its only trigger. */
export interface MachineTrigger {
    /** The node the step lives on. */
    readonly node: string;
    /** The node's recipe digest (KvmVps.recipeDigest): `sha256:…`, or `inventory:<ip>`. */
    readonly recipe: string;
}

/** `triggers` for a step on `node`'s machine that comes after `after` (see above). */
export function machineTriggers(node: KvmVps, after: ReadonlyArray<pulumi.Resource> = []): pulumi.Output<MachineTrigger[]> {
    return pulumi.all([node.recipe, ...after.map((r) => r.urn)]).apply(([recipe]) => [{ node: node.nodeName, recipe }]);
}

/** The machine a resource's inputs say it lives on, if they carry a machine trigger. */
export function machineOf(inputs: Readonly<Record<string, unknown>> | undefined): MachineTrigger | undefined {
    const triggers = inputs?.triggers;
    if (!Array.isArray(triggers) || triggers.length !== 1) return undefined;
    const t = triggers[0] as Record<string, unknown> | null;
    if (typeof t !== "object" || t === null || Object.keys(t).sort().join() !== "node,recipe") return undefined;
    return typeof t.node === "string" && typeof t.recipe === "string" ? { node: t.node, recipe: t.recipe } : undefined;
}

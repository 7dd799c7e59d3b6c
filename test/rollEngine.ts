// A model of how Pulumi's engine (pulumi/pulumi v3.248.0) orders the steps of an update that
// replaces resources, for the resources this program has: @pulumi/command commands, whose only
// replace-on-change input is `triggers`, and resources that are never replaced by an input
// change (dynamic gates with replaces: [], Kubernetes objects and providers whose computed
// inputs here are never replace keys). It follows pkg/resource/deploy/step_generator.go:
// - continueStepsFromImport: a resource not targeted keeps its old state (check stubbed out);
//   one deleted earlier in the run as a dependent of a delete-before-replace is re-created as a
//   replacement ("Case 1: recreating").
// - continueStepsFromDiff: a replacement with deleteBeforeReplace computes
//   calculateDependentReplacements(old), emits the deletes of those dependents in reverse order
//   (skipping ones already pending delete), then the delete of the resource, then its create,
//   as one chain that the step executor runs in that order (step_executor.go executeChain).
//   Without deleteBeforeReplace the new one is created first and the old one deleted at the end.
// - calculateDependentReplacements: walks graph.DependingOn(root) (pkg/resource/graph/
//   dependency_graph.go: the resources after root in the snapshot that depend on it or on one of
//   its dependents, through dependencies, property dependencies or their provider; children
//   only through those), skipping resources this run already operated on; a custom resource is
//   replaced when one of its inputs depends on a resource in the replace set and the provider's
//   Diff, with those inputs unknown, says replace. For @pulumi/command 1.2.1 that is a computed
//   `triggers` (pulumi-go-provider v1.3.0 infer/resource.go: forceReplace from the schema's
//   replaceOnChanges, which provider/pkg/provider/common/inputs.go sets on triggers); the SDK's
//   replaceOnChanges ["triggers[*]"] does not cover a whole-value change at path `triggers`
//   (PropertyPath.Contains).
// Used by the roll's tests and by the fake `pulumi` (test/fakePulumi.ts) that the roll runs.

export interface EngineResource {
    readonly urn: string;
    readonly type: string;
    readonly custom: boolean;
    readonly parent?: string | null;
    readonly inputs: Record<string, unknown>;
    /** Explicit dependencies (dependsOn), as the state's `dependencies`. */
    readonly dependencies: ReadonlyArray<string>;
    /** Per input, the resources its value came from, as the state's `propertyDependencies`. */
    readonly propertyDependencies: Readonly<Record<string, ReadonlyArray<string>>>;
    readonly deleteBeforeReplace?: boolean;
    readonly replaceOnChanges?: ReadonlyArray<string>;
}

export type Op = "create" | "update" | "same" | "delete" | "create-replacement" | "delete-replaced";

export interface Step {
    readonly op: Op;
    readonly urn: string;
    /** The delete command a delete runs (the old state's), for a command. */
    readonly command?: string;
}

const isCommand = (r: Pick<EngineResource, "type">) => r.type.startsWith("command:");
const json = (v: unknown) => JSON.stringify(v ?? null);

/** Input keys whose values differ. */
function changedKeys(olds: Record<string, unknown>, news: Record<string, unknown>): string[] {
    return [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((k) => k !== "__provider" && json(olds[k]) !== json(news[k]));
}

/** Whether a change of these keys replaces the resource: a command's `triggers`, or a key in replaceOnChanges. */
function replacesOn(r: Pick<EngineResource, "type" | "replaceOnChanges">, keys: ReadonlyArray<string>): boolean {
    return keys.some((k) => (isCommand(r) && k === "triggers") || (r.replaceOnChanges ?? []).some((p) => p.split(/[.[]/)[0] === k));
}

function dependenciesOf(r: EngineResource): string[] {
    return [...r.dependencies, ...Object.values(r.propertyDependencies).flat()];
}

export interface UpdateOptions {
    /** `--target` URNs; all resources when absent. */
    readonly targets?: ReadonlySet<string>;
}

/**
 * The steps of `pulumi up` from the state `olds` (in snapshot order) to the program `news` (in
 * registration order), and the new state.
 */
export function simulateUpdate(olds: ReadonlyArray<EngineResource>, news: ReadonlyArray<EngineResource>, opts: UpdateOptions = {}): { steps: Step[]; state: EngineResource[] } {
    const steps: Step[] = [];
    const byUrn = new Map(olds.map((r) => [r.urn, r]));
    const deleted = new Set<string>(); // sg.deletes
    const operated = new Set<string>();
    const state = new Map<string, EngineResource>(olds.map((r) => [r.urn, r]));
    const deferredDeletes: EngineResource[] = [];
    const del = (r: EngineResource, op: Op = "delete-replaced") => {
        steps.push({ op, urn: r.urn, ...(isCommand(r) && typeof r.inputs.delete === "string" ? { command: r.inputs.delete } : {}) });
        state.delete(r.urn);
    };

    const dependentReplacements = (root: EngineResource): EngineResource[] => {
        const replaceSet = new Set([root.urn]);
        const dependentSet = new Set([root.urn]);
        const out: EngineResource[] = [];
        const start = olds.indexOf(root);
        for (const d of olds.slice(start + 1)) {
            if (operated.has(d.urn)) continue; // impossibleDependents
            if (!dependenciesOf(d).some((u) => dependentSet.has(u))) continue;
            dependentSet.add(d.urn);
            if (!d.custom) continue;
            const computed = Object.keys(d.inputs).filter((k) => (d.propertyDependencies[k] ?? []).some((u) => replaceSet.has(u)));
            if (computed.length === 0) continue;
            if (replacesOn(d, computed)) {
                out.push(d);
                replaceSet.add(d.urn);
            }
        }
        return out;
    };

    for (const n of news) {
        operated.add(n.urn);
        const old = byUrn.get(n.urn);
        if (opts.targets && !opts.targets.has(n.urn) && !deleted.has(n.urn)) {
            if (old) steps.push({ op: "same", urn: n.urn });
            continue;
        }
        if (old && deleted.has(n.urn)) {
            deleted.delete(n.urn);
            steps.push({ op: "create-replacement", urn: n.urn });
            state.set(n.urn, n);
            continue;
        }
        if (!old) {
            steps.push({ op: "create", urn: n.urn });
            state.set(n.urn, n);
            continue;
        }
        const keys = changedKeys(old.inputs, n.inputs);
        if (n.custom && replacesOn(n, keys)) {
            if (n.deleteBeforeReplace) {
                const dependents = dependentReplacements(old);
                for (const d of [...dependents].reverse()) {
                    if (deleted.has(d.urn)) continue;
                    del(d);
                    deleted.add(d.urn);
                }
                del(old);
                steps.push({ op: "create-replacement", urn: n.urn });
            } else {
                steps.push({ op: "create-replacement", urn: n.urn });
                deferredDeletes.push(old);
            }
            state.set(n.urn, n);
        } else if (keys.length > 0 || json(old.dependencies) !== json(n.dependencies)) {
            steps.push({ op: keys.length > 0 ? "update" : "same", urn: n.urn });
            state.set(n.urn, n);
        } else {
            steps.push({ op: "same", urn: n.urn });
        }
    }
    for (const d of deferredDeletes) del(d);
    // Resources the program no longer registers are deleted at the end, dependents first (not needed here).
    const order = [...news.map((n) => n.urn), ...olds.map((o) => o.urn)];
    const seen = new Set<string>();
    const newState = order.filter((u) => state.has(u) && !seen.has(u) && (seen.add(u), true)).map((u) => state.get(u)!);
    return { steps, state: newState };
}

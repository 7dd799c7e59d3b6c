// A gate that stops `pulumi preview` (and so `pulumi up`) before a transition it must not make.
// It is a dynamic resource that manages nothing outside the state: its state is the inputs it
// last let through, and its provider's check(olds, news) compares them with this run's. The
// engine calls check with the inputs stored in the state as `olds` ({} on first creation),
// during the preview and again before `pulumi up` changes anything
// (pkg/resource/deploy/step_generator.go at v3.248.0, continueStepsFromImport); a failure without
// a property prints as "<type> resource '<name>' has a problem: <reason>"
// (sdk/go/common/diag/errors.go, code 2002) and fails the run. Resources that must not move past
// a refusal depend on the gate, so `--skip-preview` stops there too. A run that targets other
// resources only (`pulumi up --target`) does not check the gate: the engine stubs check out for
// resources it does not target and keeps their old inputs.
//
// The provider is serialized into the state by Pulumi (closure serialization): `decide` must be
// a plain function of its arguments.
import * as pulumi from "@pulumi/pulumi";

export interface GateVerdict<T> {
    /** What the gate records if the run goes ahead (the new inputs, or a part of them). */
    readonly inputs: T;
    /** Why the transition is refused; empty lets it through. */
    readonly problems: ReadonlyArray<string>;
}

/** olds: the inputs in the state (undefined or {} on first creation); news: this run's. */
export type GateDecision<T> = (olds: Partial<T> | undefined, news: T) => GateVerdict<T>;

/** JSON with sorted keys: the state's inputs come back from the engine in another key order. */
export function stableJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
    if (typeof value === "object" && value !== null) {
        const o = value as Record<string, unknown>;
        return `{${Object.keys(o)
            .filter((k) => o[k] !== undefined && k !== "__provider")
            .sort()
            .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(value);
}

/**
 * The provider of a gate: `id` is the one object's id; a refusal names `property` (the engine then
 * prints that input's value too) or, by default, the resource as a whole.
 */
export function gateProvider<T extends object>(decide: GateDecision<T>, id: string, property = ""): pulumi.dynamic.ResourceProvider {
    return {
        check: async (olds: Partial<T> | undefined, news: T) => {
            const verdict = decide(olds && Object.keys(olds).length > 0 ? olds : undefined, news);
            return verdict.problems.length === 0 ? { inputs: verdict.inputs } : { inputs: verdict.inputs, failures: verdict.problems.map((reason) => ({ property, reason })) };
        },
        diff: async (_id: string, olds: T, news: T) => ({ changes: stableJson(olds) !== stableJson(news), replaces: [], deleteBeforeReplace: false }),
        create: async (inputs: T) => ({ id, outs: inputs }),
        update: async (_id: string, _olds: T, news: T) => ({ outs: news }),
    };
}

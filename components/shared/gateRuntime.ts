// The part of a preview gate (previewGate.ts) that runs in Pulumi's dynamic provider host. It is
// shipped into the state as this module's compiled text, so it imports nothing.

export interface GateVerdict<T> {
    /** What the gate records if the run goes ahead (the new inputs, or a part of them). */
    readonly inputs: T;
    /** Why the transition is refused; empty lets it through. */
    readonly problems: ReadonlyArray<string>;
}

/** olds: the inputs in the state (undefined or {} on first creation); news: this run's. */
export type GateDecision<T> = (olds: Partial<T> | undefined, news: T) => GateVerdict<T>;

/** A refusal as the engine prints it: the input it names ("" for the resource as a whole) and why. */
export interface GateFailure {
    readonly property: string;
    readonly reason: string;
}

/** The methods of a dynamic provider (pulumi.dynamic.ResourceProvider) a gate implements. */
export interface GateProvider<T> {
    check(olds: Partial<T> | undefined, news: T): Promise<{ inputs: T; failures?: GateFailure[] }>;
    diff(id: string, olds: T, news: T): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }>;
    create(inputs: T): Promise<{ id: string; outs: T }>;
    update(id: string, olds: T, news: T): Promise<{ outs: T }>;
}

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
export function gateProvider<T extends object>(decide: GateDecision<T>, id: string, property = ""): GateProvider<T> {
    return {
        check: async (olds, news) => {
            const verdict = decide(olds && Object.keys(olds).length > 0 ? olds : undefined, news);
            return verdict.problems.length === 0 ? { inputs: verdict.inputs } : { inputs: verdict.inputs, failures: verdict.problems.map((reason) => ({ property, reason })) };
        },
        diff: async (_id, olds, news) => ({ changes: stableJson(olds) !== stableJson(news), replaces: [], deleteBeforeReplace: false }),
        create: async (inputs) => ({ id, outs: inputs }),
        update: async (_id, _olds, news) => ({ outs: news }),
    };
}

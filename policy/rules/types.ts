// The small view of a stack that every rule reads, and the shape of a rule. A rule is a pure
// function of this view: the CrossGuard pack (policy/crossguard.ts) and the offline plan
// (policy/inProcess.ts) each build the view their own way and run the same rules.

/** A value known only after `pulumi up` (CrossGuard's unknowns, the plan's "[unknown]"). */
export const UNKNOWN = "[unknown]";

export type Environment = "dev" | "staging" | "prod";
export const ENVIRONMENTS: ReadonlyArray<Environment> = ["dev", "staging", "prod"];

/** One resource as the rules see it. */
export interface PolicyResource {
    /** Type token, e.g. `kubernetes:networking.istio.io/v1alpha3:DestinationRule`. */
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** What the program declared: inputs (in the pack's stack rules, the planned outputs, which hold them). Unknown values are UNKNOWN. */
    readonly props: Readonly<Record<string, unknown>>;
    /** The resource's `additionalSecretOutputs` option. */
    readonly secretOutputs: ReadonlyArray<string>;
}

/** What a stack rule knows about the stack beside its resources. */
export interface StackFacts {
    readonly stack: string;
    /** The environment whose rules apply (see environmentOf); undefined when it cannot be told. */
    readonly environment?: Environment;
    /** The cluster's DNS domain (the program's `clusterDomain` output). */
    readonly clusterDomain?: string;
    /** Today's date in UTC, YYYY-MM-DD: exceptions lapse after their `expires` day. */
    readonly today: string;
}

export interface Finding {
    readonly message: string;
    /** The resource at fault; defaults to the checked resource (resource rules) or the stack. */
    readonly urn?: string;
    /** The rule could not decide because a value is known only after `pulumi up`. Never a failure. */
    readonly undetermined?: boolean;
}

export type EnforcementLevel = "mandatory" | "advisory";

interface RuleBase {
    /** Unique, kebab-case: the name CrossGuard and the plan print. */
    readonly name: string;
    /** One sentence: what must hold. */
    readonly description: string;
    readonly enforcementLevel: EnforcementLevel;
}

/** Checks one resource at a time; needs nothing but the resource (CrossGuard: a resource policy, on inputs). */
export interface ResourceRule extends RuleBase {
    readonly kind: "resource";
    /** The types it reads; others are not applicable. */
    readonly appliesTo: (type: string) => boolean;
    readonly check: (resource: PolicyResource) => Finding[];
}

/** Checks the stack as a whole (CrossGuard: a stack policy, after the preview or update). */
export interface StackRule extends RuleBase {
    readonly kind: "stack";
    readonly check: (resources: ReadonlyArray<PolicyResource>, facts: StackFacts) => Finding[];
}

export type Rule = ResourceRule | StackRule;

export const undetermined = (message: string, urn?: string): Finding => ({ message, urn, undetermined: true });

/** The value at a path of plain data, or undefined. */
export function at(value: unknown, ...path: Array<string | number>): unknown {
    let v = value;
    for (const key of path) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<string | number, unknown>)[key];
    }
    return v;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const asRecord = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});

/** The type token of a Kubernetes kind through @pulumi/kubernetes, e.g. `kubernetes:apps/v1:Deployment`. */
export function kubernetesType(apiVersion: string, kind: string): string {
    return `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${kind}`;
}

/** The Kubernetes kind of a resource of @pulumi/kubernetes, or undefined. */
export function kindOf(type: string): string | undefined {
    const m = /^kubernetes:[^:]+:([A-Za-z]+)$/.exec(type);
    return m ? m[1] : undefined;
}

/** The API group of a resource of @pulumi/kubernetes (`networking.istio.io`), "" for core. */
export function groupOf(type: string): string | undefined {
    const m = /^kubernetes:([^:]+):[A-Za-z]+$/.exec(type);
    if (!m) return undefined;
    const gv = m[1];
    return gv.includes("/") ? gv.slice(0, gv.indexOf("/")).replace(/^core$/, "") : "";
}

export const isIstioKind = (type: string, group: string, kind: string): boolean => groupOf(type) === group && kindOf(type) === kind;

// What the Pulumi state says about a canary's route: its resources' URNs, the weights the stack
// runs, and since when. Pure: reads the JSON of `pulumi stack export`.
//
// Facts from pulumi/pulumi at v3.248.0:
// - pkg/resource/deploy/deployment.go (generateURN) and sdk/go/common/resource/urn/urn.go (New):
//   urn:pulumi:<stack>::<project>::<type>::<name>, where <type> is the parent's full qualified
//   type, `$`, then the resource's type; a parent that is the root stack (pulumi:pulumi:Stack) is
//   left out. <stack> is the stack's own name, without organization or project.
// - sdk/go/common/apitype/core.go: `stack export` prints an UntypedDeployment
//   {"version": 3, "deployment": {"manifest", "secrets_providers", "resources": [ResourceV3]}};
//   a ResourceV3 has urn, custom, type, inputs, outputs, parent and, since v3.60.0 (commit
//   7e0dd3f3c2, Feb 2023), `created` and `modified` (RFC 3339 times, absent from older checkpoints).
// - pkg/resource/deploy/step.go: an UpdateStep sets `modified` to the time the provider finished
//   the update; a step that changes nothing keeps the old one; a refresh moves it only when it
//   finds drift. So the VirtualService's `modified` is when its weights (or another field of it)
//   last changed: never earlier than when the current weights took effect.

/** The component each canary entry becomes (index.ts, components/mesh/canaryRoute.ts). */
export const CANARY_ROUTE_TYPE = "oslo-mesh:mesh:CanaryRoute";
const VIRTUAL_SERVICE_TYPE = "kubernetes:networking.istio.io/v1alpha3:VirtualService";
const DESTINATION_RULE_TYPE = "kubernetes:networking.istio.io/v1alpha3:DestinationRule";

export function canaryRouteName(namespace: string, service: string): string {
    return `canary-${namespace}-${service}`;
}

/** The stack's name in URNs: the last part of `org/project/stack`. */
export function stackNameOf(stack: string): string {
    return stack.split("/").pop() as string;
}

export function urn(stack: string, project: string, type: string, name: string, parentType?: string): string {
    return `urn:pulumi:${stackNameOf(stack)}::${project}::${parentType ? `${parentType}$` : ""}${type}::${name}`;
}

export interface RouteUrns {
    readonly route: string;
    readonly destinationRule: string;
    readonly virtualService: string;
}

/** The URNs Pulumi gives the route and its children (components/mesh/canaryRoute.ts names them). */
export function routeUrns(stack: string, project: string, namespace: string, service: string): RouteUrns {
    const name = canaryRouteName(namespace, service);
    return {
        route: urn(stack, project, CANARY_ROUTE_TYPE, name),
        destinationRule: urn(stack, project, DESTINATION_RULE_TYPE, `${name}-destinationrule`, CANARY_ROUTE_TYPE),
        virtualService: urn(stack, project, VIRTUAL_SERVICE_TYPE, `${name}-virtualservice`, CANARY_ROUTE_TYPE),
    };
}

interface ResourceV3 {
    urn: string;
    type: string;
    parent?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    created?: string;
    modified?: string;
}

export interface RouteState {
    /** The route's children in the state: what `pulumi up --target` must name. */
    readonly children: ReadonlyArray<string>;
    /** Weights per subset that the VirtualService in the state routes by. */
    readonly appliedWeights?: Readonly<Record<string, number>>;
    /** When the VirtualService last changed, in ms since the epoch; absent before Pulumi 3.60. */
    readonly modifiedAt?: number;
}

/** Reads the route from `pulumi stack export` output; throws with a reason when it is not there. */
export function readRouteState(exportJson: string, urns: RouteUrns): RouteState {
    let doc: { version?: number; deployment?: { resources?: ResourceV3[] } };
    try {
        doc = JSON.parse(exportJson);
    } catch {
        throw new Error("`pulumi stack export` did not print JSON");
    }
    if (doc.version !== 3) throw new Error(`expected a version 3 deployment from \`pulumi stack export\`, got version ${doc.version}`);
    const resources = doc.deployment?.resources ?? [];
    if (!resources.some((r) => r.urn === urns.route)) throw new Error(`the stack has no ${urns.route}: has \`pulumi up\` created the canary's route?`);
    const children = resources.filter((r) => r.parent === urns.route).map((r) => r.urn);
    const vs = resources.find((r) => r.urn === urns.virtualService);
    if (!vs) return { children };
    const spec = (vs.outputs?.spec ?? vs.inputs?.spec) as { http?: Array<{ match?: unknown; route?: Array<{ destination?: { subset?: string }; weight?: number }> }> } | undefined;
    const modifiedAt = vs.modified === undefined ? undefined : Date.parse(vs.modified);
    return { children, appliedWeights: spec ? weightsOfSpec(spec) : undefined, modifiedAt: Number.isFinite(modifiedAt) ? modifiedAt : undefined };
}

/**
 * Subset → weight of the route without a match (the split), as components/mesh/render.ts writes
 * it: subsets at weight 0 get no entry, a lone subset no weight (100).
 */
function weightsOfSpec(spec: { http?: Array<{ match?: unknown; route?: Array<{ destination?: { subset?: string }; weight?: number }> }> }): Record<string, number> | undefined {
    const split = (spec.http ?? []).filter((h) => h.match === undefined).pop();
    if (!split?.route) return undefined;
    const out: Record<string, number> = {};
    for (const r of split.route) {
        const subset = r.destination?.subset;
        if (subset !== undefined) out[subset] = r.weight ?? (split.route.length === 1 ? 100 : 0);
    }
    return out;
}

/** Equal weights, a missing subset counting as 0. */
export function sameWeights(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

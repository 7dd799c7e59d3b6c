// Questions about a plan's dependency graph.
import { RecordedResource } from "./mocks";

type Node = Pick<RecordedResource, "urn" | "dependsOn">;

/** The URNs a resource waits for, directly or through others. */
export function waitsFor(resources: ReadonlyArray<Node>, start: Node): Set<string> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const seen = new Set<string>();
    const stack = [...start.dependsOn];
    while (stack.length) {
        const urn = stack.pop()!;
        if (seen.has(urn)) continue;
        seen.add(urn);
        stack.push(...(byUrn.get(urn)?.dependsOn ?? []));
    }
    return seen;
}

type Edges = Pick<RecordedResource, "urn" | "dependsOn" | "parent" | "custom">;

/** What a resource waits for, with a component standing for its children (as Pulumi's engine reads a dependency on a component). */
function expandedDependencies(resources: ReadonlyArray<Edges>): Map<string, Set<string>> {
    const children = new Map<string, string[]>();
    for (const r of resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r.urn]);
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const descendants = (urn: string, out: Set<string>): Set<string> => {
        for (const c of children.get(urn) ?? []) if (!out.has(c)) descendants(c, out.add(c));
        return out;
    };
    return new Map(
        resources.map((r) => {
            const deps = new Set<string>();
            for (const d of r.dependsOn) {
                deps.add(d);
                if (byUrn.get(d)?.custom === false) for (const c of descendants(d, new Set())) deps.add(c);
            }
            deps.delete(r.urn);
            return [r.urn, deps];
        }),
    );
}

/**
 * The order `pulumi up` creates the resources in: waves, each of resources whose dependencies
 * are all in earlier waves (parents first). Pulumi runs a wave's resources side by side.
 */
export function creationWaves(resources: ReadonlyArray<Edges>): string[][] {
    const deps = expandedDependencies(resources);
    for (const r of resources) if (r.parent) deps.get(r.urn)!.add(r.parent);
    return layers(resources, (urn, pending) => [...deps.get(urn)!].some((d) => pending.has(d)));
}

/**
 * The order `pulumi destroy` deletes the resources in, as Pulumi's engine schedules deletions
 * (pkg/resource/deploy/step_generator.go ScheduleDeletes at v3.248.0: antichains of resources none
 * of whose dependencies, providers included, are still condemned, then reversed; a parent goes
 * after its children): waves, each of resources that nothing still standing depends on.
 */
export function deletionWaves(resources: ReadonlyArray<Edges>): string[][] {
    const deps = expandedDependencies(resources);
    for (const r of resources) if (r.parent) deps.get(r.urn)!.add(r.parent);
    const dependents = new Map<string, Set<string>>(resources.map((r) => [r.urn, new Set<string>()]));
    for (const [urn, ds] of deps) for (const d of ds) dependents.get(d)?.add(urn);
    return layers(resources, (urn, pending) => [...dependents.get(urn)!].some((d) => pending.has(d)));
}

function layers(resources: ReadonlyArray<Edges>, blocked: (urn: string, pending: Set<string>) => boolean): string[][] {
    const pending = new Set(resources.map((r) => r.urn));
    const waves: string[][] = [];
    while (pending.size > 0) {
        const wave = [...pending].filter((u) => !blocked(u, pending)).sort();
        if (wave.length === 0) throw new Error(`the graph has a cycle among ${[...pending].slice(0, 3).join(", ")}`);
        for (const u of wave) pending.delete(u);
        waves.push(wave);
    }
    return waves;
}

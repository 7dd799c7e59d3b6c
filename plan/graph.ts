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

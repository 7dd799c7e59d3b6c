// Human-readable forms of a plan: the resource tree and a count per type.
import { Plan } from "./run";

export function renderTree(plan: Plan): string {
    const children = new Map<string | null, Plan["resources"]>();
    for (const r of plan.resources) {
        const key = plan.resources.some((p) => p.urn === r.parent) ? r.parent : null;
        children.set(key, [...(children.get(key) ?? []), r]);
    }
    const lines: string[] = [`Stack ${plan.stack}: ${plan.resources.length} resources`];
    const walk = (parent: string | null, indent: string) => {
        for (const r of children.get(parent) ?? []) {
            lines.push(`${indent}${r.type}  ${r.name}`);
            walk(r.urn, indent + "    ");
        }
    };
    walk(null, "    ");
    lines.push("", "Resources per type:");
    const counts = new Map<string, number>();
    for (const r of plan.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const width = Math.max(...[...counts.keys()].map((k) => k.length));
    for (const [type, n] of [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0]))) lines.push(`    ${type.padEnd(width)}  ${n}`);
    return lines.join("\n") + "\n";
}

/** The --json document. */
export function renderJson(plan: Plan): string {
    return JSON.stringify(
        {
            stack: plan.stack,
            resources: plan.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, parent: r.parent, custom: r.custom, dependsOn: r.dependsOn, inputs: r.inputs })),
            outputs: plan.outputs,
        },
        null,
        2,
    ) + "\n";
}

// Human-readable forms of a plan, shaped like `pulumi preview`: the resource tree under the
// stack (children under their parent; siblings in the order they wait for each other), one
// line of what matters per resource, the diagnostics, the stack outputs, and a count per type.
import { Plan, PlanResource } from "./run";
import { summarize } from "./summary";

const natural = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/**
 * Siblings in dependency order: A before B when anything under B waits for anything under A.
 * Ties (and cycles, which Pulumi would refuse anyway) go by name.
 */
function orderSiblings(siblings: PlanResource[], subtreeOf: (r: PlanResource) => PlanResource[]): PlanResource[] {
    const owner = new Map<string, PlanResource>();
    for (const s of siblings) for (const r of subtreeOf(s)) owner.set(r.urn, s);
    const after = new Map<PlanResource, Set<PlanResource>>(siblings.map((s) => [s, new Set()]));
    for (const s of siblings) {
        for (const r of subtreeOf(s)) {
            for (const d of r.dependsOn) {
                const o = owner.get(d);
                if (o && o !== s) after.get(s)!.add(o);
            }
        }
    }
    const byName = (a: PlanResource, b: PlanResource) => natural(a.name, b.name) || natural(a.type, b.type);
    const done = new Set<PlanResource>();
    const out: PlanResource[] = [];
    while (out.length < siblings.length) {
        const left = siblings.filter((s) => !done.has(s)).sort(byName);
        const next = left.find((s) => [...after.get(s)!].every((d) => done.has(d))) ?? left[0];
        done.add(next);
        out.push(next);
    }
    return out;
}

function formatOutput(value: unknown, indent: string): string {
    if (value === null || typeof value !== "object") return typeof value === "string" && /^\[(secret|unknown)\]$/.test(value) ? value : JSON.stringify(value);
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    if (entries.length === 0) return Array.isArray(value) ? "[]" : "{}";
    const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
    const width = Math.max(...entries.map(([k]) => k.length));
    const inner = entries.map(([k, v]) => `${indent}    ${Array.isArray(value) ? "" : `${k.padEnd(width)}: `}${formatOutput(v, indent + "    ")}`);
    return [open, ...inner, `${indent}${close}`].join("\n");
}

export function renderTree(plan: Plan): string {
    const urns = new Set(plan.resources.map((r) => r.urn));
    const children = new Map<string | null, PlanResource[]>();
    for (const r of plan.resources) {
        const key = r.parent && urns.has(r.parent) ? r.parent : null;
        children.set(key, [...(children.get(key) ?? []), r]);
    }
    const subtree = new Map<string, PlanResource[]>();
    const subtreeOf = (r: PlanResource): PlanResource[] => {
        let s = subtree.get(r.urn);
        if (!s) {
            s = [r, ...(children.get(r.urn) ?? []).flatMap(subtreeOf)];
            subtree.set(r.urn, s);
        }
        return s;
    };

    const rows: Array<{ prefix: string; type: string; name: string; info: string }> = [
        { prefix: "", type: "pulumi:pulumi:Stack", name: `oslo-mesh-${plan.stack}`, info: "" },
    ];
    const walk = (parent: string | null, prefix: string) => {
        const kids = orderSiblings(children.get(parent) ?? [], subtreeOf);
        kids.forEach((r, i) => {
            const last = i === kids.length - 1;
            rows.push({ prefix: `${prefix}${last ? "└─ " : "├─ "}`, type: r.type, name: r.name, info: summarize(r) });
            walk(r.urn, `${prefix}${last ? "   " : "│  "}`);
        });
    };
    walk(null, "");
    const typeWidth = Math.max(...rows.map((r) => r.prefix.length + r.type.length));
    const nameWidth = Math.max(...rows.map((r) => r.name.length));

    const lines: string[] = [
        `Stack ${plan.stack}: ${plan.resources.length} resources`,
        "",
        `     ${"Type".padEnd(typeWidth)}  ${"Name".padEnd(nameWidth)}  Details`,
        ...rows.map((r) => ` +   ${(r.prefix + r.type).padEnd(typeWidth)}  ${r.info ? `${r.name.padEnd(nameWidth)}  ${r.info}` : r.name}`),
    ];

    const shown = plan.diagnostics.filter((d) => d.severity !== "info");
    if (shown.length) {
        lines.push("", "Diagnostics:");
        const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
        for (const d of shown) {
            const about = d.urn && byUrn.get(d.urn);
            const head = about ? `  ${about.type} (${about.name}):` : `  pulumi:pulumi:Stack (oslo-mesh-${plan.stack}):`;
            lines.push(head, ...`${d.severity}: ${d.message}`.split("\n").map((l) => `    ${l}`), "");
        }
        lines.pop();
    }

    const outputs = Object.entries(plan.outputs);
    if (outputs.length) {
        lines.push("", "Outputs:");
        const width = Math.max(...outputs.map(([k]) => k.length));
        for (const [k, v] of outputs) lines.push(`    ${k.padEnd(width)}: ${formatOutput(v, "    ")}`);
    }

    lines.push("", "Resources:", `    + ${plan.resources.length + 1} to create (the stack and ${plan.resources.length} resources)`);
    lines.push("", "Resources per type:");
    const counts = new Map<string, number>();
    for (const r of plan.resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const width = Math.max(...[...counts.keys()].map((k) => k.length));
    for (const [type, n] of [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) lines.push(`    ${type.padEnd(width)}  ${n}`);
    return lines.join("\n") + "\n";
}

/** The --json document. */
export function renderJson(plan: Plan): string {
    return (
        JSON.stringify(
            {
                stack: plan.stack,
                resources: plan.resources.map((r) => ({
                    urn: r.urn,
                    type: r.type,
                    name: r.name,
                    parent: r.parent,
                    custom: r.custom,
                    dependsOn: r.dependsOn,
                    inputs: r.inputs,
                    replaceOnChanges: r.replaceOnChanges,
                    deleteBeforeReplace: r.deleteBeforeReplace,
                })),
                outputs: plan.outputs,
                diagnostics: plan.diagnostics,
            },
            null,
            2,
        ) + "\n"
    );
}

// A readable diff of two plans: the resources that appear, vanish or change, and for each
// changed one the fields that change. Secrets stay hidden: a changed secret shows only as
// changed (the plans carry per-diff digests of them, see plan/run.ts).
import { diffLines } from "diff";
import { describeUpgrade, UpgradeSummary } from "../components/kubernetes/day2/upgrade/summary";
import { Plan, PlanResource } from "./run";

export interface FieldChange {
    readonly path: string;
    readonly before: unknown;
    readonly after: unknown;
}

export interface PlanDiff {
    readonly added: PlanResource[];
    readonly removed: PlanResource[];
    readonly changed: Array<{ resource: PlanResource; fields: FieldChange[] }>;
    /** A change of kubernetes.version, as the upgrade it is (components/kubernetes/day2/upgrade/summary.ts). */
    readonly upgrade?: UpgradeSummary;
}

const SECRET = /^\[secret(?::([0-9a-f]+))?\]$/;

/** Two values are the same secret when both carry digests and they agree, or when either carries none (nothing to compare). */
function sameLeaf(a: unknown, b: unknown): boolean {
    if (typeof a === "string" && typeof b === "string") {
        const [sa, sb] = [SECRET.exec(a), SECRET.exec(b)];
        if (sa && sb) return !sa[1] || !sb[1] || sa[1] === sb[1];
    }
    return a === b;
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function walk(before: unknown, after: unknown, path: string, out: FieldChange[]): void {
    if (isObject(before) && isObject(after)) {
        for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) walk(before[k], after[k], path ? `${path}.${k}` : k, out);
        return;
    }
    if (Array.isArray(before) && Array.isArray(after)) {
        for (let i = 0; i < Math.max(before.length, after.length); i++) walk(before[i], after[i], `${path}[${i}]`, out);
        return;
    }
    if (!sameLeaf(before, after)) out.push({ path, before, after });
}

export function diffPlans(base: Plan, head: Plan): PlanDiff {
    const b = new Map(base.resources.map((r) => [r.urn, r]));
    const h = new Map(head.resources.map((r) => [r.urn, r]));
    const changed: PlanDiff["changed"] = [];
    for (const [urn, r] of h) {
        const old = b.get(urn);
        if (!old) continue;
        const fields: FieldChange[] = [];
        walk({ parent: old.parent, inputs: old.inputs }, { parent: r.parent, inputs: r.inputs }, "", fields);
        // What a resource waits for is a set: name what it starts or stops waiting for.
        const name = (urn: string) => h.get(urn)?.name ?? b.get(urn)?.name ?? urn;
        const gained = r.dependsOn.filter((u) => !old.dependsOn.includes(u)).map(name);
        const lost = old.dependsOn.filter((u) => !r.dependsOn.includes(u)).map(name);
        if (gained.length || lost.length) fields.push({ path: "dependsOn", before: lost, after: gained });
        if (fields.length) changed.push({ resource: r, fields });
    }
    return {
        added: [...h.values()].filter((r) => !b.has(r.urn)),
        removed: [...b.values()].filter((r) => !h.has(r.urn)),
        changed,
        upgrade: describeUpgrade(base.resources, head.resources),
    };
}

function show(v: unknown): string {
    if (v === undefined) return "(none)";
    if (typeof v === "string") return SECRET.test(v) ? "[secret]" : JSON.stringify(v);
    return JSON.stringify(v, (_k, x) => (typeof x === "string" && SECRET.test(x) ? "[secret]" : x));
}

const MAX_LINES = 40;

function showField(f: FieldChange): string[] {
    const secret = [f.before, f.after].some((v) => typeof v === "string" && SECRET.test(v));
    if (secret) return [`      ${f.path}: [secret] changed`];
    if (typeof f.before === "string" && typeof f.after === "string" && (f.before.includes("\n") || f.after.includes("\n"))) {
        const lines: string[] = [];
        for (const part of diffLines(f.before, f.after)) {
            if (!part.added && !part.removed) continue;
            for (const l of part.value.replace(/\n$/, "").split("\n")) lines.push(`        ${part.added ? "+" : "-"} ${l}`);
        }
        const shown = lines.slice(0, MAX_LINES);
        if (lines.length > MAX_LINES) shown.push(`        … ${lines.length - MAX_LINES} more changed lines`);
        return [`      ${f.path}: changed`, ...shown];
    }
    if (f.path === "dependsOn") {
        const [lost, gained] = [f.before as string[], f.after as string[]];
        return [`      dependsOn: ${[...gained.map((n) => `+${n}`), ...lost.map((n) => `-${n}`)].join(" ")}`];
    }
    return [`      ${f.path}: ${show(f.before)} → ${show(f.after)}`];
}

export function renderDiff(d: PlanDiff, title: string): string {
    const line = (mark: string, r: PlanResource) => `${mark} ${r.type}  ${r.name}`;
    const out = [title];
    if (d.upgrade) out.push(...d.upgrade.lines, "");
    for (const r of d.added) out.push(line("+", r));
    for (const r of d.removed) out.push(line("-", r));
    for (const c of d.changed) {
        // An upgrade step's script changes with the version: the summary above says what it does.
        if (d.upgrade?.urns.has(c.resource.urn)) out.push(`${line("~", c.resource)}  (upgrade to ${d.upgrade.to}, see above)`);
        else out.push(line("~", c.resource), ...c.fields.flatMap(showField));
    }
    out.push(`${d.added.length} to add, ${d.changed.length} to change, ${d.removed.length} to remove`);
    return out.join("\n") + "\n";
}

// A readable diff of two plans: the resources that appear, vanish, change or are replaced, and
// for each changed one the fields that change. Secrets stay hidden: a changed secret shows only
// as changed (the plans carry per-diff digests of them, see plan/run.ts).
//
// Replacement follows what the engine does with the new program's registration: a change of
// a command's `triggers` input (@pulumi/command 1.2.1 replaces on it), or of an input named in
// the resource's `replaceOnChanges` option, replaces the resource (`+-`); `deleteBeforeReplace`
// removes the old one first. Any other input change of a command re-runs its `update` in place.
import { diffLines } from "diff";
import { describeUpgrade, UpgradeSummary } from "../components/kubernetes/day2/upgrade/summary";
import { coveredBy } from "./propertyPaths";
import { Plan, PlanResource } from "./run";

export interface FieldChange {
    /** One path, or several that change the same way (a script that is both `create` and `update`). */
    readonly path: string;
    readonly before: unknown;
    readonly after: unknown;
}

export interface ResourceChange {
    readonly resource: PlanResource;
    readonly fields: FieldChange[];
    /** Why the engine would replace it rather than update it in place; empty for an update. */
    readonly replacedBy: string[];
}

export interface PlanDiff {
    readonly added: PlanResource[];
    readonly removed: PlanResource[];
    readonly changed: ResourceChange[];
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

function replacementReasons(r: PlanResource, fields: FieldChange[]): string[] {
    const reasons = new Set<string>();
    for (const f of fields) {
        if (f.path === "dependsOn") continue;
        const inInputs = f.path.startsWith("inputs.") ? f.path.slice("inputs.".length) : undefined;
        if (inInputs === undefined) continue;
        if (r.type.startsWith("command:") && coveredBy("triggers", inInputs)) reasons.add("triggers");
        for (const p of r.replaceOnChanges ?? []) if (coveredBy(p, inInputs)) reasons.add(p);
    }
    // replaceOnChanges: ["triggers[*]"] on a command says what `triggers` says already.
    if (reasons.has("triggers")) for (const p of [...reasons]) if (p !== "triggers" && coveredBy("triggers", p)) reasons.delete(p);
    return [...reasons];
}

/** Field changes that change the same way are shown once, under all their paths. */
function mergeSame(fields: FieldChange[]): FieldChange[] {
    const out: FieldChange[] = [];
    for (const f of fields) {
        const same = f.path !== "dependsOn" && out.find((o) => o.path !== "dependsOn" && JSON.stringify([o.before, o.after]) === JSON.stringify([f.before, f.after]));
        if (same) out[out.indexOf(same)] = { ...same, path: `${same.path}, ${f.path}` };
        else out.push(f);
    }
    return out;
}

export function diffPlans(base: Plan, head: Plan): PlanDiff {
    const b = new Map(base.resources.map((r) => [r.urn, r]));
    const h = new Map(head.resources.map((r) => [r.urn, r]));
    const changed: ResourceChange[] = [];
    for (const [urn, r] of h) {
        const old = b.get(urn);
        if (!old) continue;
        const fields: FieldChange[] = [];
        walk({ parent: old.parent, inputs: old.inputs }, { parent: r.parent, inputs: r.inputs }, "", fields);
        const replacedBy = replacementReasons(r, fields);
        // What a resource waits for is a set: name what it starts or stops waiting for.
        const name = (urn: string) => h.get(urn)?.name ?? b.get(urn)?.name ?? urn;
        const gained = r.dependsOn.filter((u) => !old.dependsOn.includes(u)).map(name);
        const lost = old.dependsOn.filter((u) => !r.dependsOn.includes(u)).map(name);
        if (gained.length || lost.length) fields.push({ path: "dependsOn", before: lost, after: gained });
        if (fields.length) changed.push({ resource: r, fields: mergeSame(fields), replacedBy });
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
/** Lines longer than this show only the part that changed, with some context. */
const LONG_LINE = 100;
const CONTEXT = 30;

/** A long changed line cut down to where it differs from its counterpart. */
function clip(line: string, other: string | undefined): string {
    if (line.length <= LONG_LINE || other === undefined) return line;
    let start = 0;
    while (start < line.length && start < other.length && line[start] === other[start]) start++;
    let end = 0;
    while (end < line.length - start && end < other.length - start && line[line.length - 1 - end] === other[other.length - 1 - end]) end++;
    const from = Math.max(0, start - CONTEXT);
    const to = Math.min(line.length, line.length - end + CONTEXT);
    return `${from > 0 ? "…" : ""}${line.slice(from, to)}${to < line.length ? "…" : ""}`;
}

/** Line-level changes of two texts: `- old` / `+ new`, a changed long line cut to its change. */
function lineDiff(before: string, after: string): string[] {
    const parts = diffLines(before, after);
    const out: string[] = [];
    for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        if (!p.added && !p.removed) continue;
        const lines = p.value.replace(/\n$/, "").split("\n");
        // A removed block right before an added one: pair the lines to show each one's change.
        const next = parts[i + 1];
        const prev = parts[i - 1];
        const counterpart = p.removed && next?.added ? next.value.replace(/\n$/, "").split("\n") : p.added && prev?.removed ? prev.value.replace(/\n$/, "").split("\n") : [];
        lines.forEach((l, k) => out.push(`        ${p.added ? "+" : "-"} ${clip(l, counterpart[k])}`));
    }
    return out;
}

function showField(f: FieldChange): string[] {
    const secret = [f.before, f.after].some((v) => typeof v === "string" && SECRET.test(v));
    if (secret) return [`      ${f.path}: [secret] changed`];
    if (f.path === "dependsOn") {
        const [lost, gained] = [f.before as string[], f.after as string[]];
        return [`      dependsOn: ${[...gained.map((n) => `+${n}`), ...lost.map((n) => `-${n}`)].join(" ")}`];
    }
    const texts = typeof f.before === "string" && typeof f.after === "string";
    if (texts && ((f.before as string).includes("\n") || (f.after as string).includes("\n") || (f.before as string).length > LONG_LINE || (f.after as string).length > LONG_LINE)) {
        const lines = lineDiff(f.before as string, f.after as string);
        const shown = lines.slice(0, MAX_LINES);
        if (lines.length > MAX_LINES) shown.push(`        … ${lines.length - MAX_LINES} more changed lines`);
        return [`      ${f.path}: changed`, ...shown];
    }
    return [`      ${f.path}: ${show(f.before)} → ${show(f.after)}`];
}

export function renderDiff(d: PlanDiff, title: string): string {
    const line = (mark: string, r: PlanResource, note = "") => `${mark} ${r.type}  ${r.name}${note}`;
    const out = [title];
    if (d.upgrade) out.push(...d.upgrade.lines, "");
    for (const r of d.added) out.push(line("+", r));
    for (const r of d.removed) out.push(line("-", r));
    for (const c of d.changed) {
        const note = c.replacedBy.length
            ? `  (replaced: ${c.replacedBy.join(", ")} changed${c.resource.deleteBeforeReplace ? "; the old one is deleted first" : ""})`
            : "";
        const mark = c.replacedBy.length ? "+-" : "~";
        // An upgrade step's script changes with the version: the summary above says what it does.
        if (d.upgrade?.urns.has(c.resource.urn)) out.push(`${line(mark, c.resource, note)}  (upgrade to ${d.upgrade.to}, see above)`);
        else out.push(line(mark, c.resource, note), ...c.fields.flatMap(showField));
    }
    const replaced = d.changed.filter((c) => c.replacedBy.length).length;
    out.push(`${d.added.length} to add, ${d.changed.length - replaced} to change, ${replaced} to replace, ${d.removed.length} to remove`);
    return out.join("\n") + "\n";
}

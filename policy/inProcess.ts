// The same rules, run in-process on the offline plan's resources (`npm run plan -- --policy`):
// the plan's inputs already mark values known only after `pulumi up` as "[unknown]".
import { utcDay } from "./rules/annotations";
import { stackFacts } from "./rules/facts";
import { RULES } from "./rules";
import { EnforcementLevel, PolicyResource, Rule } from "./rules/types";

/** What the rules need from a plan (plan/run.ts's Plan has it). */
export interface PlanView {
    readonly stack: string;
    readonly resources: ReadonlyArray<{ urn: string; type: string; name: string; inputs: Record<string, unknown>; additionalSecretOutputs?: ReadonlyArray<string> }>;
    readonly outputs: Readonly<Record<string, unknown>>;
}

export interface Violation {
    readonly rule: string;
    readonly enforcementLevel: EnforcementLevel;
    /** The resource at fault, as `Type name`; the stack when none. */
    readonly resource: string;
    readonly urn?: string;
    readonly message: string;
    /** Not a violation: what could not be checked offline (known only after `pulumi up`). */
    readonly undetermined: boolean;
}

export function evaluatePlan(plan: PlanView, opts: { rules?: ReadonlyArray<Rule>; now?: Date } = {}): Violation[] {
    const rules = opts.rules ?? RULES;
    const resources: PolicyResource[] = plan.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs, secretOutputs: r.additionalSecretOutputs ?? [] }));
    const facts = stackFacts(plan.stack, plan.outputs, utcDay(opts.now ?? new Date()));
    const label = (urn: string | undefined) => {
        const r = urn ? resources.find((x) => x.urn === urn) : undefined;
        return r ? `${r.type.split(":").pop()} ${r.name}` : `stack ${plan.stack}`;
    };
    const out: Violation[] = [];
    for (const rule of rules) {
        const findings =
            rule.kind === "resource"
                ? resources.filter((r) => rule.appliesTo(r.type)).flatMap((r) => rule.check(r).map((f) => ({ ...f, urn: f.urn ?? r.urn })))
                : facts.environment
                  ? rule.check(resources, facts)
                  : [{ message: `cannot tell this stack's environment: no \`environment\` output, and "${plan.stack}" is not dev, staging or prod` }];
        for (const f of findings) {
            out.push({ rule: rule.name, enforcementLevel: rule.enforcementLevel, resource: label(f.urn), urn: f.urn, message: f.message, undetermined: f.undetermined === true });
        }
    }
    return out;
}

export const failsPlan = (violations: ReadonlyArray<Violation>): boolean => violations.some((v) => v.enforcementLevel === "mandatory" && !v.undetermined);

/** The report printed after the plan's tree. */
export function renderViolations(violations: ReadonlyArray<Violation>, rules: ReadonlyArray<Rule> = RULES): string {
    const real = violations.filter((v) => !v.undetermined);
    const notChecked = violations.filter((v) => v.undetermined);
    const mandatory = real.filter((v) => v.enforcementLevel === "mandatory").length;
    const lines = [`Policy (${rules.length} rules): ${mandatory} mandatory, ${real.length - mandatory} advisory violation(s)`];
    for (const v of real) lines.push(`    ${v.enforcementLevel.padEnd(9)}  ${v.rule}  ${v.resource}`, `        ${v.message}`);
    if (notChecked.length) {
        lines.push("", "Not checked offline (known only at pulumi up):");
        for (const v of notChecked) lines.push(`    ${v.rule}  ${v.resource}: ${v.message}`);
    }
    return lines.join("\n") + "\n";
}

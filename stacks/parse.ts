// Reads the `oslo-mesh:` configuration, applies the environment's defaults, checks the
// structure (zod) and then the rules between keys (each component's validate.ts), and
// reports every problem at once. Nothing here touches a resource, and nothing here loads
// Pulumi's SDK: `npm run plan` checks a stack's configuration with it before loading the SDK
// (plan/preflight.ts), and the program through stacks/load.ts.
import { z } from "zod";
import { deepMerge, defaultsFor } from "./defaults";
import { flatKeyPath, sectionOfKey } from "./keys";
import { inspectValue, LIMITS } from "./limits";
import { NAMESPACE, Path, Problem, Problems, show } from "./problems";
import { Environment, environments, SectionName, sections, StackConfig } from "./schema";
import { isEncryptedPlaceholder, privateKeyProblem, SECRET_PATHS, SET_PRIVATE_KEY } from "./secrets";
import { validators } from "./validators";

// A run parses the configuration once: zod's JIT, which compiles each object schema into a
// function on its first parse, costs more than that one parse saves (prod: about 50 ms against 20).
z.config({ jitless: true });

export interface RawConfig {
    /** Every configuration value as Pulumi hands it over: `oslo-mesh:key` → string (JSON for structured values). */
    readonly values: Readonly<Record<string, string>>;
    /** Whether a top-level key was set with --secret. */
    readonly isSecret: (key: string) => boolean;
}

/** The plain parse, without Pulumi secrets: the configuration, or every problem with it. */
export function parseStackConfig(stack: string, raw: RawConfig): { config?: StackConfig; problems: Problem[] } {
    const problems = new Problems();
    const given = readSections(raw, problems);
    if (!given) return { problems: scrubbed(problems.list, []) };
    const secretValues = [...given.secret].flatMap((name) => stringsIn(given.values.get(name)));

    const environment = resolveEnvironment(stack, given.values.get("environment"), problems);
    if (!environment) return { problems: scrubbed(problems.list, secretValues) };
    const overrides: Record<string, unknown> = {};
    for (const [name, value] of given.values) Object.defineProperty(overrides, name, { value, enumerable: true, writable: true, configurable: true });
    overrides.environment = environment;
    const merged = deepMerge(defaultsFor(environment), overrides) as Record<string, unknown>;

    const parsed: Partial<Record<SectionName, unknown>> = {};
    for (const name of Object.keys(sections) as SectionName[]) {
        const schema = sections[name] as z.ZodType;
        const value = Object.hasOwn(merged, name) ? merged[name] : undefined;
        const result = schema.safeParse(value);
        const refused = given.refused.filter((p) => p[0] === name);
        for (const issue of result.success ? [] : result.error.issues) {
            const path: Path = [name, ...(issue.path as Array<string | number>)];
            // A value the limits already refused (and left out) is not reported twice.
            if (refused.some((r) => r.length <= path.length && r.every((seg, i) => seg === path[i]))) continue;
            // An encrypted value where none belongs is reported once, by checkSecrets.
            if (isEncryptedPlaceholder(valueAt(value, issue.path as Path))) continue;
            describeIssue(name, schema, value, issue, problems, given.secret.has(name));
        }
        if (result.success && refused.length === 0) parsed[name] = result.data;
    }
    checkSecrets(given, problems);
    for (const v of validators) {
        if (v.needs.every((s) => s in parsed)) v.check(parsed as StackConfig, problems);
    }
    if (problems.list.length > 0) return { problems: scrubbed(problems.list, secretValues) };
    return { config: parsed as StackConfig, problems: [] };
}

interface GivenSections {
    readonly values: Map<SectionName, unknown>;
    /** Sections whose top-level key Pulumi marked secret (it holds a secret somewhere inside). */
    readonly secret: Set<SectionName>;
    /** Paths the limits refused and left out of `values`. */
    readonly refused: Path[];
}

/** The stack's `oslo-mesh:` sections, parsed and held to the limits; undefined when the whole is too large to read. */
function readSections(raw: RawConfig, problems: Problems): GivenSections | undefined {
    const entries = Object.entries(raw.values);
    const total = entries.reduce((n, [k, v]) => n + k.length + (typeof v === "string" ? v.length : 0), 0);
    if (total > LIMITS.totalChars) {
        problems.addAt(NAMESPACE, `the configuration is ${total} characters; at most ${LIMITS.totalChars} are read`);
        return undefined;
    }
    const values = new Map<SectionName, unknown>();
    const secret = new Set<SectionName>();
    const refused: Path[] = [];
    const budget = { values: 0 };
    // Inside a secret's path (a PEM key is multi-line); nothing there is written into a file or script.
    const multiline = (path: Path) => SECRET_PATHS.some((s) => s.length <= path.length && s.every((seg, i) => seg === path[i]));
    const flat: Array<[Path, unknown]> = [];
    for (const [fullKey, text] of entries) {
        const flatPath = flatKeyPath(fullKey);
        if (flatPath) {
            // Its value is still checked where it belongs, so the flat key is its only problem.
            problems.add(flatPath, `set as one flat key named "${fullKey.slice(NAMESPACE.length + 1)}"; set it with --path: pulumi config rm '${fullKey}' && pulumi config set --path '${fullKey}' ...`);
            flat.push([flatPath, inspectValue(parseValue(text), flatPath, problems, { multiline }, budget)]);
            continue;
        }
        const name = sectionOfKey(fullKey, problems);
        if (!name) continue;
        const isSecret = raw.isSecret(fullKey);
        if (isSecret) secret.add(name);
        if (isSecret && !SECRET_PATHS.some((p) => p[0] === name)) {
            problems.add([name], `is set as a secret but holds nothing secret; set it without --secret (only ${SECRET_PATHS.map((p) => p.join(".")).join(", ")} is secret)`);
        }
        const before = problems.list.length;
        const value = inspectValue(parseValue(text), [name], problems, { multiline }, budget);
        refused.push(...problems.list.slice(before).map((p) => p.path));
        if (value !== undefined) values.set(name, value);
    }
    for (const [path, value] of flat) {
        if (value !== undefined) values.set(path[0] as SectionName, setAt(values.get(path[0] as SectionName), path.slice(1), value));
    }
    return { values, secret, refused };
}

/** `value` with `leaf` put at `path` (a value already there wins). */
function setAt(value: unknown, path: Path, leaf: unknown): unknown {
    if (path.length === 0) return value === undefined ? leaf : value;
    const [head, ...rest] = path;
    const base = (value !== null && typeof value === "object" ? value : typeof head === "number" ? [] : {}) as Record<string | number, unknown>;
    base[head] = setAt(base[head], rest, leaf);
    return base;
}

/**
 * ssh.privateKey only as a Pulumi secret, and nothing else secret. Offline, an encrypted value is
 * a placeholder that names its path, so a `secure:` value under any other key is caught there too.
 */
function checkSecrets(given: GivenSections, problems: Problems): void {
    for (const [name, value] of given.values) {
        for (const [path, v] of leaves(value, [name])) {
            if (!isEncryptedPlaceholder(v)) continue;
            if (!SECRET_PATHS.some((s) => s.length === path.length && s.every((seg, i) => seg === path[i]))) {
                problems.add(path, `is encrypted (set with --secret) but holds nothing secret; set it without --secret (only ${SECRET_PATHS.map((p) => p.join(".")).join(", ")} is secret)`);
            }
        }
    }
    // Read from what was given, not from the parsed section: a wrong ssh.user must not hide a plain-text key.
    const ssh = given.values.get("ssh");
    const privateKey = ssh !== null && typeof ssh === "object" && !Array.isArray(ssh) ? (ssh as Record<string, unknown>).privateKey : undefined;
    if (privateKey === undefined) {
        if (given.secret.has("ssh") && ssh !== undefined) problems.add(["ssh"], "is set as a secret but only ssh.privateKey may be; set the other ssh keys without --secret");
        return;
    }
    if (typeof privateKey !== "string") return; // the schema says what it expected
    if (!given.secret.has("ssh")) {
        problems.add(["ssh", "privateKey"], `is in plain text in the stack file; remove it (pulumi config rm --path '${NAMESPACE}:ssh.privateKey') and store it encrypted: ${SET_PRIVATE_KEY}`);
        return;
    }
    if (isEncryptedPlaceholder(privateKey)) return; // encrypted; offline it cannot be read
    const why = privateKeyProblem(privateKey);
    if (why) problems.add(["ssh", "privateKey"], why);
}

function leaves(value: unknown, path: Path): Array<[Path, unknown]> {
    if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
    if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
    return [[path, value]];
}

function stringsIn(value: unknown): string[] {
    return leaves(value, []).map(([, v]) => v).filter((v): v is string => typeof v === "string");
}

/**
 * The last guard on messages: no part of a secret key's value survives in one. Validators
 * describe problems without echoing values, and the schema's messages skip secret sections;
 * this catches whatever a future rule might quote.
 */
function scrubbed(list: Problem[], secretValues: string[]): Problem[] {
    const needles = [...new Set(secretValues.flatMap((s) => [s, ...s.split(/\r?\n/)]).filter((s) => s.length >= 8 && !isEncryptedPlaceholder(s)))].sort((a, b) => b.length - a.length);
    if (needles.length === 0) return list;
    return list.map((p) => {
        let message = p.message;
        for (const n of needles) message = message.split(n).join("[secret]");
        return message === p.message ? p : { ...p, message };
    });
}

/** Pulumi keeps plain strings as they are and structured values as JSON. */
function parseValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

function resolveEnvironment(stack: string, given: unknown, problems: Problems): Environment | undefined {
    const named = (environments as ReadonlyArray<string>).includes(stack) ? (stack as Environment) : undefined;
    if (given === undefined) {
        if (named) return named;
        problems.add(["environment"], `required because the stack name ${show(stack)} is not one of ${environments.join(", ")}; expected one of them`);
        return undefined;
    }
    if (typeof given !== "string" || !(environments as ReadonlyArray<string>).includes(given)) {
        problems.add(["environment"], `expected one of ${environments.join(", ")}, got ${show(given)}`);
        return undefined;
    }
    // The stack named prod is prod: its rules cannot be switched off by declaring another environment.
    if (named && given !== named) {
        problems.add(["environment"], `the stack ${named} is the ${named} environment; remove oslo-mesh:environment or set it to ${named}, got ${show(given)}`);
        return undefined;
    }
    return given as Environment;
}

function valueAt(value: unknown, path: Path): unknown {
    let v = value;
    for (const seg of path) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<string | number, unknown>)[seg];
    }
    return v;
}

function describeType(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "a list";
    if (typeof v === "object") return "an object";
    return `${typeof v}`;
}

type SchemaNode = { def?: { type?: string; innerType?: unknown; valueType?: unknown }; element?: unknown; shape?: Record<string, unknown>; options?: SchemaNode[] };

/** The schema at a config path: through optionals and defaults, list elements, record values and object keys. */
function schemaAt(schema: z.ZodType, path: Path): SchemaNode | undefined {
    const unwrap = (n: SchemaNode | undefined): SchemaNode | undefined => {
        while (n?.def && (n.def.type === "optional" || n.def.type === "default") && n.def.innerType) n = n.def.innerType as SchemaNode;
        return n;
    };
    let s = unwrap(schema as unknown as SchemaNode);
    for (const seg of path) {
        if (!s) return undefined;
        if (typeof seg === "number") s = s.element as SchemaNode | undefined;
        else if (s.def?.type === "record") s = s.def.valueType as SchemaNode | undefined;
        else s = s.shape?.[seg] as SchemaNode | undefined;
        s = unwrap(s);
    }
    return s;
}

/** The keys an object schema accepts at a path, for "unknown key" messages. */
function knownKeys(schema: z.ZodType, path: Path): string[] {
    return Object.keys(schemaAt(schema, path)?.shape ?? {});
}

/** The shapes a union accepts at a path, e.g. "{exact} or {prefix} or {regex}". */
function unionForms(schema: z.ZodType, path: Path): string {
    return (schemaAt(schema, path)?.options ?? []).map((o) => `{${Object.keys(o.shape ?? {}).join(", ")}}`).join(" or ");
}

// Values of a secret section never appear in messages, only their types; others are shown cut short (show()).
function describeIssue(section: SectionName, schema: z.ZodType, value: unknown, issue: z.core.$ZodIssue, problems: Problems, secret: boolean): void {
    const path: Path = [section, ...(issue.path as Array<string | number>)];
    const input = valueAt(value, issue.path as Path);
    const got = secret ? "" : `, got ${show(input)}`;
    switch (issue.code) {
        case "invalid_type":
            problems.add(path, input === undefined ? `required; expected ${article(issue.expected)}` : `expected ${article(issue.expected)}, got ${describeType(input)}`);
            return;
        case "unrecognized_keys": {
            const known = knownKeys(schema, issue.path as Path);
            for (const key of issue.keys) problems.add([...path, key], `unknown key; expected one of: ${known.join(", ")}`);
            return;
        }
        case "invalid_value":
            problems.add(path, `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}${got}`);
            return;
        case "too_small":
            problems.add(path, issue.origin === "array" ? `must have at least ${issue.minimum} item(s)` : issue.origin === "string" ? `must not be empty` : `must be at least ${issue.minimum}${got}`);
            return;
        case "too_big":
            problems.add(path, issue.origin === "array" ? `must have at most ${issue.maximum} item(s)` : issue.origin === "string" ? `must be at most ${issue.maximum} characters` : `must be at most ${issue.maximum}${got}`);
            return;
        case "invalid_format":
            problems.add(path, issue.format === "regex" ? `${issue.message}${got}` : `must be ${article(formatName(issue.format))}${got}`);
            return;
        case "invalid_union":
            problems.add(path, `expected exactly one of the forms: ${unionForms(schema, issue.path as Path) || issue.message}`);
            return;
        case "custom":
            problems.add(path, `${issue.message}${got}`);
            return;
        default:
            problems.add(path, issue.message);
    }
}

function formatName(format: string): string {
    return ({ url: "URL", ipv4: "IPv4 address", cidrv4: "IPv4 CIDR such as 10.0.0.0/16" } as Record<string, string>)[format] ?? format;
}

function article(noun: string): string {
    if (["int", "integer"].includes(noun)) return "an integer";
    if (noun === "object") return "an object";
    if (noun === "array") return "a list";
    return /^[aeiouAEIOU]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

// Reads the `oslo-mesh:` configuration, applies the environment's defaults, checks the
// structure (zod) and then the rules between keys (each component's validate.ts), and
// reports every problem at once. Nothing here touches a resource.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { deepMerge, defaultsFor } from "./defaults";
import { ConfigError, NAMESPACE, Path, Problem, Problems } from "./problems";
import { Environment, environments, SectionName, sections, StackConfig } from "./schema";
import { validators } from "./validators";

/** The validated configuration, with secret values already wrapped as Pulumi secrets. */
export type LoadedConfig = Omit<StackConfig, "ssh"> & {
    readonly stack: string;
    readonly ssh: Omit<StackConfig["ssh"], "privateKey"> & { readonly privateKey?: pulumi.Output<string> };
};

export interface RawConfig {
    /** Every configuration value as Pulumi hands it over: `oslo-mesh:key` → string (JSON for structured values). */
    readonly values: Readonly<Record<string, string>>;
    /** Whether a top-level key was set with --secret. */
    readonly isSecret: (key: string) => boolean;
}

/** The configuration of the running Pulumi program (also under mocks). */
export function currentRawConfig(): RawConfig {
    const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
    return {
        values: pulumi.runtime.allConfig(),
        isSecret: (k) => (runtime.isConfigSecret ? runtime.isConfigSecret(k) : false),
    };
}

/** Validates and returns the stack's configuration, or throws a ConfigError listing every problem. */
export function loadStackConfig(stack: string = pulumi.getStack(), raw: RawConfig = currentRawConfig()): LoadedConfig {
    const { config, problems } = parseStackConfig(stack, raw);
    if (problems.length > 0 || !config) throw new ConfigError(problems);
    return {
        ...config,
        stack,
        ssh: {
            ...config.ssh,
            privateKey: config.ssh.privateKey === undefined ? undefined : pulumi.secret(config.ssh.privateKey),
        },
    };
}

/** Internal. Exported for testing: the plain parse, without Pulumi secrets. */
export function parseStackConfig(stack: string, raw: RawConfig): { config?: StackConfig; problems: Problem[] } {
    const problems = new Problems();
    const given: Record<string, unknown> = {};
    const flatKeys: Array<[Path, unknown]> = [];
    const prefix = `${NAMESPACE}:`;
    for (const [fullKey, text] of Object.entries(raw.values)) {
        if (!fullKey.startsWith(prefix)) continue;
        const key = fullKey.slice(prefix.length);
        if (!(key in sections)) {
            const flat = flatKeyPath(key);
            if (flat) {
                // `pulumi config set oslo-mesh:ssh.publicKey ...` without --path: one key named "ssh.publicKey".
                problems.add(flat, `set as one flat key named "${key}"; set it with --path: pulumi config rm '${fullKey}' && pulumi config set --path '${fullKey}' ...`);
                flatKeys.push([flat, parseValue(text)]);
                continue;
            }
            problems.add([key], `unknown key; expected one of: ${Object.keys(sections).join(", ")}`);
            continue;
        }
        if (raw.isSecret(fullKey) && key !== "ssh") {
            problems.add([key], "is set as a secret but holds nothing secret; set it without --secret (only ssh.privateKey is secret)");
        }
        given[key] = parseValue(text);
    }
    // Their values are still checked where they belong, so the flat key is the only problem.
    for (const [path, value] of flatKeys) given[path[0]] = setAt(given[path[0]], path.slice(1), value);

    const environment = resolveEnvironment(stack, given.environment, problems);
    if (!environment) return { problems: problems.list };
    const merged = deepMerge(defaultsFor(environment), { ...given, environment }) as Record<string, unknown>;

    const parsed: Partial<Record<SectionName, unknown>> = {};
    for (const name of Object.keys(sections) as SectionName[]) {
        const result = (sections[name] as z.ZodType).safeParse(merged[name]);
        if (result.success) parsed[name] = result.data;
        else for (const issue of result.error.issues) describeIssue(name, sections[name] as z.ZodType, merged[name], issue, problems);
    }
    for (const v of validators) {
        if (v.needs.every((s) => s in parsed)) v.check(parsed as StackConfig, problems);
    }
    if (problems.list.length > 0) return { problems: problems.list };
    return { config: parsed as StackConfig, problems: [] };
}

/** ["ssh", "publicKey"] for a key "ssh.publicKey" (or "vps.hypervisors[0].name") whose first part is a section. */
function flatKeyPath(key: string): Path | undefined {
    const parts = key.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== "");
    if (parts.length < 2 || !(parts[0] in sections)) return undefined;
    return parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** `value` with `leaf` put at `path`, so that the flat key's value is still checked where it belongs. */
function setAt(value: unknown, path: Path, leaf: unknown): unknown {
    if (path.length === 0) return value === undefined ? leaf : value;
    const [head, ...rest] = path;
    const base = (typeof value === "object" && value !== null ? value : typeof head === "number" ? [] : {}) as Record<string | number, unknown>;
    base[head] = setAt(base[head], rest, leaf);
    return base;
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
    if (given === undefined) {
        if ((environments as ReadonlyArray<string>).includes(stack)) return stack as Environment;
        problems.add(["environment"], `required because the stack name "${stack}" is not one of ${environments.join(", ")}; expected one of them`);
        return undefined;
    }
    if (typeof given === "string" && (environments as ReadonlyArray<string>).includes(given)) return given as Environment;
    problems.add(["environment"], `expected one of ${environments.join(", ")}, got ${JSON.stringify(given)}`);
    return undefined;
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

// Secret values never appear in messages: only their types are described.
function describeIssue(section: SectionName, schema: z.ZodType, value: unknown, issue: z.core.$ZodIssue, problems: Problems): void {
    const path: Path = [section, ...(issue.path as Array<string | number>)];
    const input = valueAt(value, issue.path as Path);
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
            problems.add(path, `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${JSON.stringify(input)}`);
            return;
        case "too_small":
            problems.add(path, issue.origin === "array" ? `must have at least ${issue.minimum} item(s)` : `must be at least ${issue.minimum}, got ${JSON.stringify(input)}`);
            return;
        case "too_big":
            problems.add(path, issue.origin === "array" ? `must have at most ${issue.maximum} item(s)` : `must be at most ${issue.maximum}, got ${JSON.stringify(input)}`);
            return;
        case "invalid_format":
            problems.add(path, issue.format === "regex" ? `${issue.message}, got ${JSON.stringify(input)}` : `must be ${article(formatName(issue.format))}, got ${JSON.stringify(input)}`);
            return;
        case "invalid_union":
            problems.add(path, `expected exactly one of the forms: ${unionForms(schema, issue.path as Path) || issue.message}`);
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

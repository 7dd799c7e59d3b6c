// Which top-level configuration keys the program reads. Every key the stack hands over is
// either one of ours or a problem: a key of another namespace would be read by nothing, and a
// silently ignored key is a setting a reviewer believes in that does not exist.
import { NAMESPACE, Problems, show } from "./problems";
import { SectionName, sections } from "./schema";

/** Keys that would reach an object's prototype if merged naively; unknown wherever they appear. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

const SECTION_NAMES: ReadonlySet<string> = new Set(Object.keys(sections));

export function isSectionName(key: string): key is SectionName {
    return SECTION_NAMES.has(key) && !FORBIDDEN_KEYS.has(key);
}

/**
 * The section a top-level key `namespace:name` sets, or undefined after reporting why it sets
 * none. The one place that decides which keys are unknown.
 */
export function sectionOfKey(fullKey: string, problems: Problems): SectionName | undefined {
    const colon = fullKey.indexOf(":");
    if (colon < 0) {
        problems.addAt(show(fullKey), `a key without a namespace; write it as ${NAMESPACE}:<key> (Pulumi would give it the project's namespace)`);
        return undefined;
    }
    const namespace = fullKey.slice(0, colon);
    const name = fullKey.slice(colon + 1);
    if (namespace !== NAMESPACE) {
        problems.addAt(show(fullKey), `unknown namespace ${show(namespace)}: this program reads only ${NAMESPACE}: keys (and uses no default providers that other namespaces would configure)`);
        return undefined;
    }
    if (!isSectionName(name)) {
        const expected = `unknown key; expected one of: ${[...SECTION_NAMES].join(", ")}`;
        if (/^[A-Za-z0-9_.[\]-]{1,64}$/.test(name)) problems.add([name], expected);
        else problems.addAt(show(fullKey), expected);
        return undefined;
    }
    return name;
}

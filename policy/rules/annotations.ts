// The annotations the program stamps on the objects it emits so that the rules can tell what
// an object is for (components/mesh/render.ts writes them; the rules read them). A prefix that
// is a plain DNS label: no domain is claimed.

/** On the Policy and DestinationRule of a `mesh.mtls.exceptions` entry: who owns the plaintext exception. */
export const EXCEPTION_OWNER = "oslo-mesh/mtls-exception-owner";
/** On the same objects: the last day (YYYY-MM-DD, UTC) the exception may live. */
export const EXCEPTION_EXPIRES = "oslo-mesh/mtls-exception-expires";

/** On a canary's VirtualService: its progression's steps, e.g. "10,25,50,100" (canaries[].progression.steps). */
export const PROGRESSION_STEPS = "oslo-mesh/progression-steps";
/** On the same VirtualService: the subset whose weight follows the steps. */
export const PROGRESSION_SUBSET = "oslo-mesh/progression-subset";

export const YYYY_MM_DD = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `s` is a real calendar day written YYYY-MM-DD. */
export function isCalendarDate(s: string): boolean {
    const m = YYYY_MM_DD.exec(s);
    if (!m) return false;
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** Today in UTC as YYYY-MM-DD. */
export function utcDay(now: Date): string {
    return now.toISOString().slice(0, 10);
}

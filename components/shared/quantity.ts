// Kubernetes resource quantities as numbers: CPU in cores, memory in bytes.
const SUFFIX: Record<string, number> = {
    "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a quantity such as 100m (0.1), 128Mi (134217728) or 1G (1e9); undefined when it does not parse. */
export function parseQuantity(text: string): number | undefined {
    const m = /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(text);
    if (!m) return undefined;
    return Number(m[1]) * SUFFIX[m[2] ?? ""];
}

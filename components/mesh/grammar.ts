// What Istio 1.3.3 accepts in the fields the config fills, read from its validation
// (pkg/config/validation/validation.go, pkg/config/labels/instance.go, pkg/config/host/name.go
// at tag 1.3.3), so that the config refuses it first, with the config key.

/** `supportedRetryOnPolicies` (validation.go at 1.3.3): Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on. */
export const RETRY_ON_POLICIES = ["5xx", "gateway-error", "connect-failure", "retriable-4xx", "refused-stream", "retriable-status-codes", "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"];

/**
 * validateHTTPRetry also takes an HTTP status code where Go's http.StatusText knows it
 * (net/http/status.go).
 */
export const HTTP_STATUS_CODES = [
    100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417,
    418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
];

/** Why a retryOn value is refused, or undefined. Istio splits on "," and takes each part as it is. */
export function retryOnProblem(retryOn: string): string | undefined {
    const bad = retryOn.split(",").filter((p) => !RETRY_ON_POLICIES.includes(p) && !(/^\d+$/.test(p) && HTTP_STATUS_CODES.includes(Number(p))));
    if (bad.length === 0) return undefined;
    return `${bad.map((b) => JSON.stringify(b)).join(", ")} ${bad.length === 1 ? "is not a retry condition" : "are not retry conditions"} Istio 1.3 knows: a comma-separated list (no spaces) of ${RETRY_ON_POLICIES.join(", ")} or HTTP status codes`;
}

// pkg/config/labels/instance.go at 1.3.3.
const DNS1123_LABEL = "[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?";
const QUALIFIED_NAME = "(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_KEY = new RegExp(`^(${DNS1123_LABEL}(?:\\.${DNS1123_LABEL})*/)?(${QUALIFIED_NAME})$`);
const LABEL_VALUE = new RegExp(`^(${QUALIFIED_NAME})?$`);

/** Why a subset label is refused, or undefined: Istio's syntax, and Kubernetes' 63 characters (a longer label selects no pod). */
export function labelProblem(key: string, value: string): string | undefined {
    const m = LABEL_KEY.exec(key);
    if (!m) return `${JSON.stringify(key)} is not a label key (an optional DNS prefix and "/", then letters, digits, "-", "_", "." between alphanumerics)`;
    if (m[1] && m[1].length - 1 > 253) return `${JSON.stringify(key)}: the prefix is longer than 253 characters`;
    if (m[2].length > 63) return `${JSON.stringify(key)}: the name is longer than 63 characters`;
    if (!LABEL_VALUE.test(value)) return `${JSON.stringify(value)} is not a label value (letters, digits, "-", "_", "." between alphanumerics)`;
    if (value.length > 63) return `${JSON.stringify(value)} is longer than 63 characters, more than a pod label holds`;
    return undefined;
}

/** RFC 7230 token characters: what an HTTP header name is made of. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function headerNameProblem(name: string): string | undefined {
    if (name === "") return "a header name cannot be empty";
    if (!HEADER_NAME.test(name)) return `${JSON.stringify(name)} is not an HTTP header name (letters, digits and !#$%&'*+-.^_\`|~, no spaces or colons)`;
    return undefined;
}

const WILDCARD_LABEL = new RegExp(`^(\\*|(\\*|\\*-)?${DNS1123_LABEL})$`);
const LABEL = new RegExp(`^${DNS1123_LABEL}$`);

/**
 * Why a public host name of the ingress is refused, or undefined: a fully qualified name,
 * `*.domain`, or `*` (ValidateWildcardDomain), and nothing a VirtualService host cannot be.
 */
export function ingressHostProblem(host: string): string | undefined {
    if (host === "") return "a host name cannot be empty";
    if (host.includes("://")) return `${JSON.stringify(host)} carries a scheme: give the host name alone`;
    if (host.includes("/")) return `${JSON.stringify(host)} carries a "/" (a namespace prefix or a path): give the host name alone`;
    if (host.includes(":")) return `${JSON.stringify(host)} carries a port: the Gateway listens on 80; give the host name alone`;
    if (host === "*") return undefined;
    if (!host.includes(".")) return `${JSON.stringify(host)} is a short name: give the fully qualified host name clients send`;
    if (host.length > 255) return `${JSON.stringify(host)} is longer than 255 characters`;
    const [first, ...rest] = host.split(".");
    if (!(first.length <= 63 && WILDCARD_LABEL.test(first)) || rest.some((l, i) => !(l.length <= 63 && LABEL.test(l)) && !(i === rest.length - 1 && l === ""))) {
        return `${JSON.stringify(host)} is not a host name (DNS labels of letters, digits and "-", a wildcard only as the first label)`;
    }
    if (/^\d+$/.test(rest[rest.length - 1] ?? "")) return `${JSON.stringify(host)}: the top-level domain cannot be all digits`;
    return undefined;
}

/** host.Name.Matches (pkg/config/host/name.go at 1.3.3): whether one host covers the other. */
export function hostsOverlap(a: string, b: string): boolean {
    const wa = a.startsWith("*");
    const wb = b.startsWith("*");
    if (wa && wb) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
    if (wa) return b.endsWith(a.slice(1));
    if (wb) return a.endsWith(b.slice(1));
    return a === b;
}

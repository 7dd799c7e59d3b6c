// IPv4/IPv6 address and CIDR arithmetic, on ipaddr.js.
import * as ipaddr from "ipaddr.js";

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** The parsed CIDR, or undefined when it does not parse. */
export function parseCidr(text: string): Cidr | undefined {
    try {
        return ipaddr.parseCIDR(text);
    } catch {
        return undefined;
    }
}

export function isIp(text: string): boolean {
    return ipaddr.isValid(text) && (ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text));
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
    const addr = ipaddr.parse(ip);
    return addr.kind() === cidr[0].kind() && addr.match(cidr);
}

/** Two CIDRs overlap when either contains the other's network address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
    if (a[0].kind() !== b[0].kind()) return false;
    return a[0].match(b) || b[0].match(a);
}

/** The prefix length of a CIDR, e.g. 24 for 10.0.0.0/24. */
export function prefixLength(text: string): number {
    const c = parseCidr(text);
    if (!c) throw new Error(`not a CIDR: ${text}`);
    return c[1];
}

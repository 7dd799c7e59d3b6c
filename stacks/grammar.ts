// The narrowest grammar each consumer of a config value accepts. A value that reaches a script,
// a file or another tool's command line is checked here first; the renders then write it with
// the target's own quoting (shell parameters, a YAML serializer), so a value is never trusted to
// be harmless because of where it lands.
import * as ipaddr from "ipaddr.js";
import { z } from "zod";

/** A DNS-1123 label (RFC 1123; Kubernetes IsDNS1123Label): node, hypervisor, namespace and service names, hostnames. */
export const dnsLabel = z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a DNS-1123 label (lowercase letters, digits and '-', at most 63)");

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/** A DNS name of labels (Kubernetes IsDNS1123Subdomain): at most 253 characters. */
export const dnsName = z.string().regex(DNS_NAME, "must be a DNS name (lowercase labels of letters, digits and '-', at most 253 characters)");

/** A POSIX portable user name as useradd (shadow's is_valid_user_name) and cloud-init accept it, at most 32 characters. */
export const posixUser = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a POSIX user name (lowercase letters, digits, '_' and '-', at most 32, not starting with a digit or '-')");

/** A dotted-quad IPv4 address. */
export const ipv4 = z.ipv4();

/** An SSH host: an IPv4 address or a DNS name. */
export const sshHost = z
    .string()
    .refine((s) => isIpv4(s) || DNS_NAME.test(s), "must be an IPv4 address or a DNS name");

/** An IPv4 CIDR in canonical form (no host bits), so that what the firewall, kubeadm and Calico see is what the file says. */
export const canonicalCidrV4 = z.string().superRefine((s, ctx) => {
    const canonical = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(s) ? canonicalCidr(s) : undefined;
    if (canonical === undefined) ctx.addIssue({ code: "custom", message: "must be an IPv4 CIDR such as 10.0.0.0/16" });
    else if (canonical !== s) ctx.addIssue({ code: "custom", message: `must be a canonical IPv4 CIDR with no host bits, such as ${canonical}` });
});

/**
 * A name that ends up inside a virt-install or virsh option (`--disk vol=POOL/…`, `--network network=NAME,…`).
 * virt-install splits option strings with shlex on ',' and '=' and honours quotes and backslashes
 * (virtinst/cli.py parse_optstr_tuples), so none of those may appear; '/' would name another pool.
 */
export const libvirtName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "must be a libvirt name: letters, digits, '_', '.' and '-', at most 63, starting with a letter or digit");

/** A Linux network interface name (at most IFNAMSIZ-1 = 15 bytes), safe inside virt-install's `--network bridge=NAME,…`. */
export const interfaceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, "must be a network interface name: letters, digits, '_', '.' and '-', at most 15, starting with a letter or digit");

/**
 * One kernel command-line argument: `name` or `name=value`, one token. It is written into a
 * grub defaults file that `update-grub` sources as root with /bin/sh, then into grub.cfg, which
 * GRUB's own script parser reads at boot: neither shell nor GRUB metacharacters, quotes,
 * whitespace or `--` (the end of the kernel's arguments) can be part of it.
 */
export const KERNEL_ARG = /^(?=.{1,256}$)[A-Za-z0-9_][A-Za-z0-9_.-]*(=[A-Za-z0-9_.,:/+=@%-]*)?$/;
export const kernelArg = z
    .string()
    .regex(KERNEL_ARG, "must be one kernel argument, name or name=value, of letters, digits and _ . - (value also , : / + = @ %), no spaces or quotes, at most 256");

/** A release version exactly as the project publishes it: X.Y.Z, no leading `v`, no whitespace. */
export const releaseVersion = z.string().regex(/^(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})$/, "must be a version X.Y.Z such as 1.15.12 (no 'v', no spaces)");

/** A Debian package version ([epoch:]upstream[-revision], deb-version(7)), as `apt-get install pkg=VERSION` takes it. */
export const debianVersion = z
    .string()
    .regex(/^(?=.{1,128}$)([0-9]{1,5}:)?[0-9][A-Za-z0-9.+~]*(-[A-Za-z0-9.+~]+)?$/, "must be a Debian package version such as 1.3.3-0ubuntu2, at most 128 characters");

/** Schemes a download URL may use: fetched by curl on a node or hypervisor, never file:, ftp: or anything curl would also speak. */
export const URL_SCHEMES = ["https:", "http:"] as const;

/**
 * A download URL: http(s) only, no credentials (the config is not secret), and only the
 * characters RFC 3986 allows in a URL, without quotes, spaces or backslashes.
 */
export const downloadUrl = z
    .string()
    .superRefine((s, ctx) => {
        const why = downloadUrlProblem(s);
        if (why) ctx.addIssue({ code: "custom", message: why });
    });

export function downloadUrlProblem(s: string): string | undefined {
    if (s.length > 2048) return "must be at most 2048 characters";
    if (!/^[A-Za-z0-9._~:/?#[\]@!$&()*+,;=%-]+$/.test(s)) return "must be a URL of RFC 3986 characters only (no spaces, quotes or backslashes)";
    let url: URL;
    try {
        url = new URL(s);
    } catch {
        return "must be an http(s) URL such as https://dl.k8s.io";
    }
    if (!(URL_SCHEMES as ReadonlyArray<string>).includes(url.protocol)) return `must be an http(s) URL; ${url.protocol.replace(/:$/, "")}: is not allowed`;
    if (url.username || url.password) return "must not hold credentials (the stack config is not secret)";
    if (!url.hostname) return "must name a host";
    return undefined;
}

/** `host[:port]` of the API server: an IPv4 address or a DNS name, and a port 1 to 65535. */
export const ENDPOINT = /^([^:]+?)(?::([0-9]{1,5}))?$/;
export const endpoint = z.string().superRefine((s, ctx) => {
    const m = ENDPOINT.exec(s);
    const host = m?.[1] ?? "";
    const port = m?.[2] === undefined ? 6443 : Number(m[2]);
    if (!m || !(isIpv4(host) || DNS_NAME.test(host))) ctx.addIssue({ code: "custom", message: "must be host[:port] with an IPv4 address or a DNS name as host" });
    else if (port < 1 || port > 65535) ctx.addIssue({ code: "custom", message: `port must be 1 to 65535, got ${port}` });
});

export function isIpv4(s: string): boolean {
    return ipaddr.IPv4.isValidFourPartDecimal(s);
}

/** The CIDR with its host bits cleared, or undefined when it is no IPv4 CIDR. */
export function canonicalCidr(s: string): string | undefined {
    try {
        const [addr, bits] = ipaddr.IPv4.parseCIDR(s);
        return `${ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${bits}`).toString()}/${bits}`;
    } catch {
        return undefined;
    }
}

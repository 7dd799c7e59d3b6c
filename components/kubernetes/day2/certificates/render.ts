// Pure renders for certificate renewal on the control planes.
import { X509Certificate } from "crypto";
import * as path from "path";
import { renderScript } from "../../../shared/script";
import { ScriptEnv } from "../../render";
import { serviceUnit, timerUnit } from "../systemd";
import { minorOf } from "../versions";

const script = (name: string) => path.join(__dirname, name);

/** Where init.sh leaves the kubeadm config of the first control plane (with its secrets, root only). */
export const INIT_CONFIG = "/etc/kubernetes/oslo-mesh/kubeadm-init.yaml";

export interface CertificateConfig {
    /** systemd OnCalendar expression of the check. */
    readonly schedule: string;
    /** Renew when any certificate has fewer days than this left. */
    readonly renewBeforeDays: number;
}

/**
 * What the node's kubeadm offers, per minor: `kubeadm alpha certs check-expiration` and the
 * renewal of the kubeconfig files' certificates by `renew all` arrive with 1.15 (its
 * cmd/kubeadm/app/cmd/alpha/certs.go uses the renewal manager that also lists admin.conf,
 * controller-manager.conf and scheduler.conf); 1.13 and 1.14 renew the PKI only (their
 * certs.go walks certsphase.GetDefaultCertList()).
 */
export function kubeadmCertificateFeatures(k8sVersion: string): { checkExpiration: boolean; renewsKubeconfigs: boolean } {
    const since115 = ["1.13", "1.14"].includes(minorOf(k8sVersion)) === false;
    return { checkExpiration: since115, renewsKubeconfigs: since115 };
}

export function renderRenewScript(nodeName: string, k8sVersion: string, c: CertificateConfig, env: ScriptEnv & { waitSeconds?: number } = {}): string {
    const features = kubeadmCertificateFeatures(k8sVersion);
    return renderScript(script("renew-certificates.sh"), {
        ROOT: env.root ?? "",
        NODE_NAME: nodeName,
        RENEW_BEFORE_DAYS: c.renewBeforeDays,
        HAS_CHECK_EXPIRATION: features.checkExpiration,
        RENEWS_KUBECONFIGS: features.renewsKubeconfigs,
        KUBEADM_CONFIG: INIT_CONFIG,
        WAIT_SECONDS: env.waitSeconds ?? 120,
    });
}

/** Installs (or, with `remove`, takes away) the renewal job and its timer, and runs the job once. */
export function renderRenewalInstaller(action: "install" | "remove", nodeName: string, k8sVersion: string, c: CertificateConfig, env: ScriptEnv & { waitSeconds?: number } = {}): string {
    const description = "oslo-mesh: renew kubeadm certificates before they expire";
    return renderScript(script("install-certificate-renewal.sh"), {
        ROOT: env.root ?? "",
        ACTION: action,
        NODE_NAME: nodeName,
        RENEW_SCRIPT: action === "install" ? renderRenewScript(nodeName, k8sVersion, c, env) : "",
        SERVICE_UNIT: serviceUnit("certificate-renewal", description),
        TIMER_UNIT: timerUnit(description, c.schedule),
    });
}

/**
 * A warning when the kubeconfig the stack hands out (read at the `pulumi up` that created it)
 * holds a client certificate with fewer than `renewBeforeDays` left: by then the control planes
 * have renewed theirs, and re-reading admin.conf hands out the new one. Undefined otherwise.
 */
export function kubeconfigExpiryWarning(kubeconfig: string, renewBeforeDays: number, kubeconfigUrn: string, now: Date = new Date()): string | undefined {
    const b64 = /client-certificate-data:\s*(\S+)/.exec(kubeconfig)?.[1];
    if (!b64) return undefined;
    const cert = new X509Certificate(Buffer.from(b64, "base64"));
    const expires = new Date(cert.validTo);
    const daysLeft = (expires.getTime() - now.getTime()) / 86400_000;
    if (daysLeft >= renewBeforeDays) return undefined;
    return `the kubeconfig this stack hands out expires on ${expires.toISOString().slice(0, 10)} (${Math.max(0, Math.floor(daysLeft))} days left); the control planes renew their certificates before that: run \`pulumi up --replace '${kubeconfigUrn}'\` to hand out the renewed admin.conf`;
}

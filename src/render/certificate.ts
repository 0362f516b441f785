// The serving certificate (cert-manager.io/v1) for the Service's DNS names. cert-manager writes the
// Secret <name>-tls that the engine mounts; the operator never reads it. A new private key on
// every renewal (rotationPolicy Always).
import type { KubernetesObject } from "@kubernetes/client-node";
import type { RenderContext } from "./context.ts";
import { childMeta } from "./meta.ts";

export type Certificate = KubernetesObject & {
  spec: {
    secretName: string;
    dnsNames: string[];
    issuerRef: { name: string; kind: string; group: string };
    privateKey: { rotationPolicy: "Always" };
    usages: string[];
  };
};

/** The Service's DNS names, shortest first; the last is the fully qualified one. */
export function serviceDnsNames(rc: RenderContext): string[] {
  const svc = rc.names.service;
  const ns = rc.namespace ?? "default";
  return [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.${rc.config.clusterDomain}`];
}

export function certificate(rc: RenderContext): Certificate | undefined {
  const tls = rc.spec.tls;
  if (!tls || !rc.engine.tls) return undefined;
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: childMeta(rc, rc.names.certificate),
    spec: {
      secretName: rc.names.certificate,
      dnsNames: serviceDnsNames(rc),
      issuerRef: { name: tls.issuerRef.name, kind: tls.issuerRef.kind ?? "Issuer", group: "cert-manager.io" },
      privateKey: { rotationPolicy: "Always" },
      usages: ["server auth", "digital signature", "key encipherment"],
    },
  };
}

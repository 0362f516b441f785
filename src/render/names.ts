// Child object names. Every child must have a valid DNS-1035 label name of at most 63 characters
// (Services require it); a name that would be too long is truncated and made unique with a hash.
import { createHash } from "node:crypto";
import { DNS1035_LABEL } from "../api/schema.ts";

export const MAX_CHILD_NAME_LENGTH = 63;
const HASH_LENGTH = 8;

/** `<base>[-<suffix>]`, or `<truncated base>[-<suffix>]-<hash>` when that is not a valid DNS-1035 label. */
export function childName(base: string, suffix = ""): string {
  const full = suffix ? `${base}-${suffix}` : base;
  if (full.length <= MAX_CHILD_NAME_LENGTH && DNS1035_LABEL.test(full)) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, HASH_LENGTH);
  const tail = suffix ? `-${suffix}-${hash}` : `-${hash}`;
  let head = base
    .toLowerCase()
    .replace(/[^-a-z0-9]/g, "-")
    .replace(/^[^a-z]+/, "");
  head = head.slice(0, Math.max(1, MAX_CHILD_NAME_LENGTH - tail.length)).replace(/-+$/, "");
  return `${head || "m"}${tail}`;
}

export type ChildNames = {
  deployment: string;
  /**
   * The LeaderWorkerSet: not the Service's name, as the LeaderWorkerSet controller creates a
   * headless Service of its own name for the pods' DNS names (LWS_LEADER_ADDRESS).
   */
  leaderWorkerSet: string;
  service: string;
  hpa: string;
  pdb: string;
  pvc: string;
  scaledObject: string;
  interceptorRoute: string;
  networkPolicy: string;
  httpRoute: string;
  securityPolicy: string;
  backendTlsPolicy: string;
  /** The cert-manager Certificate and the Secret it writes. */
  certificate: string;
};

/** Names of every child of a ModelService (all derived from metadata.name only, so they never change). */
export function childNames(name: string): ChildNames {
  const base = childName(name);
  return {
    deployment: base,
    leaderWorkerSet: childName(name, "group"),
    service: base,
    hpa: base,
    pdb: base,
    pvc: childName(name, "cache"),
    scaledObject: base,
    interceptorRoute: base,
    networkPolicy: base,
    httpRoute: base,
    securityPolicy: base,
    backendTlsPolicy: base,
    certificate: childName(name, "tls"),
  };
}

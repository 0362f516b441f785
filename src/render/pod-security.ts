// The pod security profile. Restricted (the default) passes the `restricted` Pod Security Standard:
// a non-root user, a read-only root filesystem, and emptyDirs for every directory an engine writes
// (/tmp, its home with ~/.cache and ~/.triton, and the engine module's own writableDirs such as
// TGI's /data). Baseline keeps the image's own user for images that cannot run as non-root.
import type { V1Container, V1EnvVar, V1PodSecurityContext, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { OperatorConfig } from "../config/operator-config.ts";
import { ENGINE_CONTAINER } from "../model/resolved.ts";
import type { RenderContext } from "./context.ts";

export type SecurityProfile = "Restricted" | "Baseline";
export type PodSecurityConfig = NonNullable<OperatorConfig["podSecurity"]>;

export const DEFAULT_POD_SECURITY: PodSecurityConfig = {
  profile: "Restricted",
  runAsUser: 1000,
  runAsGroup: 1000,
  fsGroup: 1000,
  ephemeralStorageLimit: "200Gi",
};

/** Where HOME points under Restricted: engine images default to /root, which a non-root user cannot write. */
export const HOME_DIR = "/home/modelservice";

export const podSecurityConfig = (config: OperatorConfig): PodSecurityConfig => config.podSecurity ?? DEFAULT_POD_SECURITY;

export type PodSecurityParts = {
  podContext: V1PodSecurityContext;
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
  env: V1EnvVar[];
  harden: (c: V1Container) => V1Container;
};

export function podSecurity(rc: RenderContext): PodSecurityParts {
  const ps = podSecurityConfig(rc.config);
  const baseContext = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
  if (ps.profile === "Baseline") {
    return {
      podContext: { seccompProfile: { type: "RuntimeDefault" } },
      volumes: [],
      mounts: [],
      env: [],
      harden: (c) => ({ ...c, securityContext: baseContext }),
    };
  }
  const dirs = [
    { name: "tmp", path: "/tmp" },
    { name: "home", path: HOME_DIR },
    ...(rc.engine.writableDirs ?? []).map((path, i) => ({ name: `writable-${i}`, path })),
  ];
  const restricted = { ...baseContext, readOnlyRootFilesystem: true, runAsNonRoot: true };
  return {
    podContext: {
      runAsNonRoot: true,
      runAsUser: ps.runAsUser,
      runAsGroup: ps.runAsGroup,
      fsGroup: ps.fsGroup,
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumes: dirs.map((d) => ({ name: d.name, emptyDir: {} })),
    mounts: dirs.map((d) => ({ name: d.name, mountPath: d.path })),
    env: [{ name: "HOME", value: HOME_DIR }],
    // Init containers (the s3/gs downloader) write only to the cache and /tmp, and need HOME too.
    harden: (c) => ({
      ...c,
      securityContext: restricted,
      ...(c.name === ENGINE_CONTAINER ? {} : { env: [{ name: "HOME", value: HOME_DIR }, ...(c.env ?? [])] }),
      volumeMounts: [
        ...(c.volumeMounts ?? []),
        ...dirs.filter((d) => !(c.volumeMounts ?? []).some((m) => m.mountPath === d.path)).map((d) => ({ name: d.name, mountPath: d.path })),
      ],
    }),
  };
}

/**
 * The ephemeral-storage limit of the engine when its weights are downloaded onto the node's disk
 * (no cache claim): without it one model can fill the node.
 */
export function ephemeralStorageLimit(rc: RenderContext): string | undefined {
  const downloads = rc.engineCtx.source.kind === "hf" || rc.engineCtx.source.kind === "ollama";
  if (!downloads || rc.spec.cache !== undefined) return undefined;
  if (rc.spec.resources?.limits?.["ephemeral-storage"] !== undefined) return undefined;
  return podSecurityConfig(rc.config).ephemeralStorageLimit;
}

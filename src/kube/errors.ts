// How to read a failed request: whether a retry can help, and a short message for logs and status.
import { isApiError } from "./client.ts";

/** Errors a retry will not fix: the request itself is refused (validation, admission, RBAC). */
export const isPermanent = (e: unknown): boolean => isApiError(e) && (e.status === 400 || e.status === 403 || e.status === 422);

/**
 * `<status>: <the API server's message>` for an API error (the Status object's message, else the
 * raw body), the error's message otherwise; at most 900 characters.
 */
export function errorMessage(e: unknown): string {
  if (isApiError(e)) {
    const body = e.body as { message?: unknown } | string | undefined;
    const detail =
      typeof body === "object" && body !== null && typeof body.message === "string" && body.message
        ? body.message
        : typeof body === "string" && body !== ""
          ? body
          : e.message;
    return `${e.status ? `${e.status}: ` : ""}${detail}`.slice(0, 900);
  }
  const message = typeof e === "object" && e !== null ? (e as { message?: unknown }).message : undefined;
  return (typeof message === "string" ? message : String(e)).slice(0, 900);
}

/**
 * The namespace is being deleted: the API server refuses to create anything in it (403, cause
 * NamespaceTerminating, message "... because it is being terminated"). Nothing to fix or report.
 */
export function isNamespaceTerminating(e: unknown): boolean {
  if (!isApiError(e, 403)) return false;
  const body = e.body as { message?: unknown; details?: { causes?: { reason?: unknown }[] } } | undefined;
  if (typeof body !== "object" || body === null) return false;
  if (body.details?.causes?.some((c) => c.reason === "NamespaceTerminating")) return true;
  return typeof body.message === "string" && body.message.includes("because it is being terminated");
}

// Reading the local control plane's audit log (ControlPlane.auditLogPath, or inject("auditLogPath")
// in integration tests): one JSON line per write request (create, update, patch, delete,
// deletecollection) at Metadata level, written when the response completes. Reads are not logged,
// nor the system components' own lease renewals.
//
// Counting the writes an action causes:
//   const mark = auditMark(path);
//   ...act, then let the dust settle...
//   const writes = readAuditEvents(path, mark).filter((e) => e.userAgent?.startsWith("modelservice-operator"));
import { readFileSync, statSync } from "node:fs";

export type AuditEvent = {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string; apiGroup?: string; apiVersion?: string };
  responseStatus?: { code?: number; reason?: string; message?: string };
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
};

/** The current end of the log: pass it to readAuditEvents to get only what comes after. */
export const auditMark = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** The events logged since `mark` (default: all), in order. */
export const readAuditEvents = (path: string, mark = 0): AuditEvent[] => {
  let text: string;
  try {
    text = readFileSync(path).subarray(mark).toString("utf8");
  } catch {
    return [];
  }
  const events: AuditEvent[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      events.push(JSON.parse(line) as AuditEvent);
    } catch {
      // a line being written right now
    }
  }
  return events;
};

import { createHash } from "node:crypto";
import type { Annotation } from "@tessera/core";
import type { ImageRef, JobPayload } from "@tessera/queue";
import { runFiles } from "./layout.ts";

/**
 * What gets one outcome, one manifest line and one annotation: each image of a request, or a
 * compare set as a whole. A request's answer has one entry per unit, in order.
 */
export interface Unit {
  /** The manifest key: the source key, or the set's id. */
  key: string;
  etag: string;
  refs: ImageRef[];
  annotationKey: string;
  /** A compare set: its id and member keys. */
  set?: { id: string; members: string[] };
  mime?: string;
}

export function unitsOf(payload: JobPayload<"annotate">): Unit[] {
  const { runId, set } = payload;
  if (set === undefined) {
    return payload.images.map((ref) => ({
      key: ref.key,
      etag: ref.etag,
      refs: [ref],
      annotationKey: runFiles.annotation(runId, ref.key),
      mime: ref.mime,
    }));
  }
  return [
    {
      key: set.id,
      etag: setEtag(payload.images),
      refs: payload.images,
      annotationKey: runFiles.setAnnotation(runId, set.id),
      set: { id: set.id, members: payload.images.map((ref) => ref.key) },
    },
  ];
}

/** A set changes when any member does: its "ETag" is a hash of the members' keys and ETags. */
function setEtag(refs: readonly ImageRef[]): string {
  const hash = createHash("sha256");
  for (const ref of refs) hash.update(`${ref.key}\n${ref.etag}\n`);
  return hash.digest("hex").slice(0, 32);
}

/** Is this stored annotation the unit's, for the very objects the run listed? */
export function annotationOf(unit: Unit, annotation: Annotation): boolean {
  if (unit.set === undefined) return annotation.set === undefined && annotation.source.etag === unit.etag;
  const members = annotation.set?.members ?? [];
  return (
    members.length === unit.refs.length &&
    members.every((m, i) => m.key === unit.refs[i]!.key && m.etag === unit.refs[i]!.etag)
  );
}

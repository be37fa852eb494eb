// Collects what one request asks for: the x-tessera-fault header (any model call) and the markers
// its images carry (generateContent only, so a budget probe with countTokens does not trip the
// fault meant for the answer). A malformed marker is a 400: a typo in a test should be loud.
import { invalidArgument } from "./errors.ts";
import type { FaultSpec } from "./markers.ts";
import { FAULT_HEADER, FaultSpecError, mergeFaultSpecs, parseFaultSpec } from "./markers.ts";
import { readImageMarker } from "./markers-image.ts";
import type { InlineImage } from "./request.ts";

export function requestFaultSpec(
  header: string | undefined,
  images: readonly InlineImage[],
  readImages: boolean,
): FaultSpec {
  const specs: FaultSpec[] = [];
  if (header !== undefined && header.trim() !== "") specs.push(parse(header, `the ${FAULT_HEADER} header`));
  if (readImages) {
    for (const image of images) {
      const marker = readImageMarker(image.bytes);
      if (marker !== undefined) specs.push(parse(marker, `the marker in ${image.field}`));
    }
  }
  return mergeFaultSpecs(specs);
}

function parse(text: string, where: string): FaultSpec {
  try {
    return parseFaultSpec(text);
  } catch (error) {
    if (error instanceof FaultSpecError)
      throw invalidArgument(`Tessera emulator: ${where}: ${error.message}`);
    throw error;
  }
}

export * from "./contract.ts";
export * from "./warnings.ts";
export * from "./registry.ts";
export * from "./json-schema.ts";
export { extractJson, isCut, type Extraction, type JsonPath } from "./json-extract.ts";
export { canonicalJson } from "./config-hash.ts";
export { imageKey, imageKeys, layoutParts } from "./image-keys.ts";
export { repairBox2d, type Box2d } from "./boxes.ts";
export {
  MASK_THRESHOLD,
  placeMask,
  resizeBilinear,
  maskArea,
  type GrayImage,
  type PlacedMask,
} from "./mask-raster.ts";
export { decodeRle, rleArea, rleFromMask, type CocoRle } from "./rle.ts";
export { encodeMaskPng } from "./png-encode.ts";
export * from "./tasks/caption.ts";
export * from "./tasks/classify.ts";
export * from "./tasks/vqa.ts";
export * from "./tasks/detect.ts";
export * from "./tasks/segment.ts";
export * from "./tasks/compare.ts";
export * from "./tasks/custom.ts";
export * from "./exports/record.ts";
export * from "./exports/coco.ts";
export * from "./exports/jsonl.ts";
export * from "./exports/csv.ts";
export * from "./exports/preview.ts";
export * from "./request-texts.ts";
export * from "./request-task.ts";
export * from "./strict-request.ts";

export * from "./header.ts";
export { configureSharp } from "./sharp-settings.ts";
export * from "./prepare.ts";
export { decodeHeif, type DecodedImage } from "./heic-decode.ts";
export { decodeBmp, type RawImage } from "./bmp-decode.ts";

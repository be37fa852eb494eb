import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { TesseraError } from "@tessera/core";

// Decodes HEVC-coded HEIC, which sharp's prebuilt libvips cannot (its libheif has no HEVC plugin),
// with libheif compiled to WebAssembly (npm `libheif-js`: no install script, no native code, works
// offline). libheif applies irot/imir while decoding, so the pixels come out display-oriented.
//
// Each call gets a fresh WebAssembly instance of a module compiled once: an instance's memory only
// grows, so reusing one would keep the largest image ever decoded resident; dropping it lets the
// garbage collector return it (instantiation costs ~15 ms against a decode of 100+ ms). Decoding
// is synchronous and blocks the event loop for its duration (about 0.2 s per megapixel here).

/** The primary image, upright. */
export interface DecodedImage {
  /** Interleaved 8-bit RGB, row after row, no padding. */
  data: Buffer;
  width: number;
  height: number;
  channels: 3;
}

interface EmbindEnum {
  value: number;
}

interface HeifError {
  code: EmbindEnum;
  message: string;
}

interface DecodeResult {
  code?: EmbindEnum;
  message?: string;
  image: unknown;
  width: number;
  height: number;
  channels: { id: EmbindEnum; width: number; height: number; stride: number; data: Uint8Array }[];
}

/** The part of libheif-js's embind API used here (the package ships no types for this entry). */
interface LibHeif {
  heif_context_alloc(): unknown;
  heif_context_free(ctx: unknown): void;
  heif_context_read_from_memory(ctx: unknown, bytes: Uint8Array): HeifError;
  heif_js_context_get_primary_image_handle(ctx: unknown): unknown;
  heif_image_handle_release(handle: unknown): void;
  heif_js_decode_image2(handle: unknown, colorspace: EmbindEnum, chroma: EmbindEnum): DecodeResult;
  heif_image_release(image: unknown): void;
  heif_colorspace: { heif_colorspace_RGB: EmbindEnum };
  heif_chroma: { heif_chroma_interleaved_RGB: EmbindEnum };
  heif_channel: { heif_channel_interleaved: EmbindEnum };
}

// The WebAssembly global exists in Node but its types come with lib "dom", which this repo omits.
interface WasmModule {
  readonly kind: "wasm-module";
}
interface WasmInstance {
  exports: object;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => WasmInstance;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type Factory = (options: {
  instantiateWasm(imports: object, done: (instance: WasmInstance, module: WasmModule) => void): object;
}) => LibHeif;

let compiled: { factory: Factory; module: WasmModule } | undefined;

function load(): { factory: Factory; module: WasmModule } {
  if (compiled) return compiled;
  const require = createRequire(import.meta.url);
  // The package's own "libheif-js/wasm" entry reads the .wasm relative to the working directory;
  // locate it next to the loader instead.
  const loader = require.resolve("libheif-js/libheif-wasm/libheif.js");
  const factory = require(loader) as Factory;
  const module = new wasm.Module(readFileSync(path.join(path.dirname(loader), "libheif.wasm")));
  compiled = { factory, module };
  return compiled;
}

function instantiate(): LibHeif {
  const { factory, module } = load();
  // Synchronous instantiation makes the runtime ready when the factory returns.
  return factory({
    instantiateWasm(imports, done) {
      const instance = new wasm.Instance(module, imports);
      done(instance, module);
      return instance.exports;
    },
  });
}

/** Decodes the primary image of a HEIF file to RGB; undecodable input throws bad_image. */
export function decodeHeif(bytes: Uint8Array): DecodedImage {
  const heif = instantiate();
  const ctx = heif.heif_context_alloc();
  try {
    const read = heif.heif_context_read_from_memory(ctx, bytes);
    if (read.code.value !== 0)
      throw new TesseraError("bad_image", `undecodable heif: ${read.message.trim()}`);
    const handle = heif.heif_js_context_get_primary_image_handle(ctx);
    if (isError(handle)) throw new TesseraError("bad_image", `undecodable heif: ${handle.message.trim()}`);
    try {
      const result = heif.heif_js_decode_image2(
        handle,
        heif.heif_colorspace.heif_colorspace_RGB,
        heif.heif_chroma.heif_chroma_interleaved_RGB,
      );
      if (result.code !== undefined) {
        throw new TesseraError(
          "bad_image",
          `undecodable heif: ${(result.message ?? "unknown error").trim()}`,
        );
      }
      try {
        const plane = result.channels.find(
          (c) => c.id.value === heif.heif_channel.heif_channel_interleaved.value,
        );
        if (!plane) throw new TesseraError("bad_image", "undecodable heif: no interleaved RGB plane");
        return { data: packRows(plane), width: plane.width, height: plane.height, channels: 3 };
      } finally {
        heif.heif_image_release(result.image);
      }
    } finally {
      heif.heif_image_handle_release(handle);
    }
  } finally {
    heif.heif_context_free(ctx);
  }
}

function isError(value: unknown): value is HeifError {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}

/** Copies the plane out of WebAssembly memory, dropping any row padding. */
function packRows(plane: { width: number; height: number; stride: number; data: Uint8Array }): Buffer {
  const row = plane.width * 3;
  if (plane.stride === row) return Buffer.from(plane.data.subarray(0, row * plane.height));
  const out = Buffer.alloc(row * plane.height);
  for (let y = 0; y < plane.height; y++)
    out.set(plane.data.subarray(y * plane.stride, y * plane.stride + row), y * row);
  return out;
}

import { isIPv4, isIPv6 } from "node:net";

/** Why an address may not be fetched from by default; undefined for a public address. */
export type AddressClass =
  | "loopback"
  | "link-local"
  | "private"
  | "unspecified"
  | "multicast"
  | "broadcast"
  | "reserved"
  | "not an IP address";

/**
 * Classifies an IP literal for the SSRF guard of URL sources. IPv4-mapped, IPv4-compatible and
 * NAT64/6to4 forms that embed an IPv4 address are judged by that address, so `::ffff:127.0.0.1`
 * is loopback like 127.0.0.1. Shared address space (100.64/10, carrier NAT) counts as private.
 */
export function classifyAddress(address: string): AddressClass | undefined {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (isIPv4(bare)) return classifyV4(v4Octets(bare));
  if (isIPv6(bare)) return classifyV6(v6Words(bare));
  return "not an IP address";
}

function v4Octets(address: string): number[] {
  return address.split(".").map(Number);
}

function classifyV4([a = 0, b = 0, c = 0, d = 0]: number[]): AddressClass | undefined {
  if (a === 0) return "unspecified"; // 0.0.0.0/8: "this network", reaches the local host on Linux
  if (a === 127) return "loopback";
  if (a === 169 && b === 254) return "link-local"; // cloud metadata (169.254.169.254) lives here
  if (a === 10) return "private";
  if (a === 172 && b >= 16 && b <= 31) return "private";
  if (a === 192 && b === 168) return "private";
  if (a === 100 && b >= 64 && b <= 127) return "private";
  if (a === 192 && b === 0 && c === 0) return "reserved"; // IETF protocol assignments
  if (a === 198 && (b === 18 || b === 19)) return "reserved"; // benchmarking
  if (a >= 224 && a <= 239) return "multicast";
  if (a === 255 && b === 255 && c === 255 && d === 255) return "broadcast";
  if (a >= 240) return "reserved";
  return undefined;
}

/** The eight 16-bit words of an IPv6 literal (with "::" expanded and a dotted IPv4 tail). */
function v6Words(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = v4Octets(dotted);
    text = `${text.slice(0, -dotted.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((w) => parseInt(w, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

function classifyV6(w: number[]): AddressClass | undefined {
  const [w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0] = w;
  const embedded = [w6 >> 8, w6 & 0xff, w7 >> 8, w7 & 0xff];
  const upperZero = w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0;
  if (upperZero && w5 === 0 && w6 === 0) {
    if (w7 === 0) return "unspecified";
    if (w7 === 1) return "loopback";
  }
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), ::ffff:0:a.b.c.d (translated).
  if (upperZero && (w5 === 0xffff || w5 === 0)) return classifyV4(embedded) ?? undefined;
  if (w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0xffff && w5 === 0) return classifyV4(embedded);
  // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address through a translator.
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0)
    return classifyV4(embedded);
  // 6to4 (2002::/16) carries an IPv4 address in words 1 and 2.
  if (w0 === 0x2002) return classifyV4([w1 >> 8, w1 & 0xff, w2 >> 8, w2 & 0xff]);
  if ((w0 & 0xffc0) === 0xfe80) return "link-local";
  if ((w0 & 0xffc0) === 0xfec0) return "private"; // deprecated site-local
  if ((w0 & 0xfe00) === 0xfc00) return "private"; // unique local fc00::/7
  if ((w0 & 0xff00) === 0xff00) return "multicast";
  if (w0 === 0x2001 && w1 === 0x0db8) return "reserved"; // documentation
  if (w0 === 0x0100 && w1 === 0 && w2 === 0 && w3 === 0) return "reserved"; // discard-only
  return undefined;
}

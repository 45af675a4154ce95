/** A UUIDv7: 48 bits of milliseconds, then randomness. Ids sort by creation time, as LangGraph's do. */
export function uuid7From(ms: number, randomHex: string): string {
  const t = ms.toString(16).padStart(12, '0').slice(-12);
  const r = randomHex.replace(/-/g, '').padEnd(32, '0');
  const variant = ((parseInt(r[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(13, 16)}-${variant}${r.slice(17, 20)}-${r.slice(20, 32)}`;
}

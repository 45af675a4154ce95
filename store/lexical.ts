import type { Embedder } from './embeddings.js';

/**
 * A LEXICAL embedder that runs locally with no model and no network: it is NOT a learned embedding model.
 * Each text becomes a bag of features (lowercased words and their character trigrams), hashed into `dims`
 * buckets with a sign bit and scaled to unit length. Two texts score high when they share words or word
 * fragments ("deploy" ~ "deployment"), never because they mean the same thing ("car" and "automobile" score
 * about zero). It is deterministic, so search results are reproducible in tests and offline installs.
 */
export function createLexicalEmbedder(dims = LEXICAL_DIMS): Embedder {
  return {
    id: `local-lexical-v1:${dims}`,
    dims,
    embed: (texts) => Promise.resolve(texts.map((t) => lexicalVector(t, dims))),
  };
}

export const LEXICAL_DIMS = 256;

// Whole words carry more evidence than any one of their fragments; fragments catch inflections and typos.
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.5;

// Function words appear in almost every English text: left in, they make unrelated sentences look alike.
const STOPWORDS = new Set(
  'a an and are as at be but by for from has have i in is it its of on or that the this to was were will with you your'.split(' '),
);

export function lexicalVector(text: string, dims: number): number[] {
  const v = new Float64Array(dims);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (STOPWORDS.has(word)) continue;
    addFeature(v, `w:${word}`, WORD_WEIGHT);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++) addFeature(v, `t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
  }
  return unitLength(Array.from(v));
}

// Signed feature hashing: colliding features cancel out on average instead of piling up in one bucket.
function addFeature(v: Float64Array, feature: string, weight: number): void {
  const h = fnv1a(feature);
  v[h % v.length]! += h & 0x80000000 ? -weight : weight;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Scales to length 1 so cosine similarity is a dot product; the zero vector (no words) stays zero. */
export function unitLength(v: number[]): number[] {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.sqrt(sum);
  return norm > 0 ? v.map((x) => x / norm) : v;
}

// picomatch ships no types (its @types package is not installed here); the one call the glob tools make.
declare module 'picomatch' {
  export default function picomatch(pattern: string, options?: { dot?: boolean; basename?: boolean }): (path: string) => boolean;
}

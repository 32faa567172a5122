// fontkit ships no types; Signet uses only `create`, through the narrow types in font-faces.ts.
declare module 'fontkit' {
  export function create(buffer: Uint8Array, postscriptName?: string): unknown;
}

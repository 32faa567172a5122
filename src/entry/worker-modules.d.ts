// Modules wrangler bundles by its [[rules]] (wrangler.toml): text as a string, binary data as an ArrayBuffer.
declare module '*/standalone.js' {
  const text: string;
  export default text;
}
declare module '*.ttf' {
  const data: ArrayBuffer;
  export default data;
}

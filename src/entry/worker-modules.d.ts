// Modules wrangler bundles by its [[rules]] (wrangler.toml): the API reference bundle as text.
declare module '*/standalone.js' {
  const text: string;
  export default text;
}

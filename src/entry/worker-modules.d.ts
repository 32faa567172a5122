// Modules wrangler bundles by its [[rules]] (wrangler.toml): the API reference bundle as text.
declare module '*/standalone.js' {
  const text: string;
  export default text;
}

// resvg's WebAssembly as a CompiledWasm module (wrangler.toml [[rules]]), for the share cards.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}

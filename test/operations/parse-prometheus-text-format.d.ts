/** The parser has no types of its own; it returns prom2json's shape. */
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}

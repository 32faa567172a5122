// Tests read many JSON bodies and assert on them directly; typing each would only repeat the assertions.
declare global {
  interface Response {
    json(): Promise<any>;
  }
}
export {};

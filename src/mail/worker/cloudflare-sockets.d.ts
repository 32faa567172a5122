// The one module of the Workers runtime the mail code imports. tsconfig.json
// loads Node's types only (@cloudflare/workers-types would replace Node's
// globals for the whole project), so the module is declared here, in the
// shape the SMTP client uses. Delete this file if workers-types is ever loaded.
declare module 'cloudflare:sockets' {
  export function connect(
    address: string | { hostname: string; port: number },
    options?: { secureTransport?: 'on' | 'off' | 'starttls'; allowHalfOpen?: boolean },
  ): import('../transports/smtp-socket-transport.js').SmtpSocket;
}

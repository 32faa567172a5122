import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { ConnectSmtpSocket, SmtpSocket } from '../../../src/mail/transports/smtp-socket-transport.js';

/**
 * `cloudflare:sockets`' connect() over node:net and node:tls, so the SMTP
 * client runs against a real server in the Node suite. `ca` trusts a test
 * certificate (workerd always verifies against the public roots).
 */
export function nodeSmtpSocketConnector(options: { ca?: string } = {}): ConnectSmtpSocket & { opened: Socket[] } {
  const opened: Socket[] = [];
  const tlsOptions = (hostname: string) => ({ ca: options.ca, ...(isIP(hostname) ? {} : { servername: hostname }) });
  const connect = (address: { hostname: string; port: number }, socketOptions: { secureTransport: 'on' | 'starttls' }) => {
    const socket =
      socketOptions.secureTransport === 'on'
        ? connectTls({ host: address.hostname, port: address.port, ...tlsOptions(address.hostname) })
        : connectTcp({ host: address.hostname, port: address.port });
    opened.push(socket);
    return wrap(socket, socketOptions.secureTransport === 'on' ? 'secureConnect' : 'connect', (upgraded) => {
      const secure = connectTls({ socket: upgraded, host: address.hostname, ...tlsOptions(address.hostname) });
      opened.push(secure);
      return secure;
    });
  };
  return Object.assign(connect, { opened });
}

function wrap(socket: Socket, openEvent: 'connect' | 'secureConnect', upgrade: (socket: Socket) => Socket): SmtpSocket {
  const opened = new Promise<void>((resolve, reject) => {
    socket.once(openEvent, () => resolve());
    socket.once('error', reject);
  });
  opened.catch(() => undefined);
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      socket.on('data', (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
      socket.on('end', () => {
        try {
          controller.close();
        } catch {
          // Already errored.
        }
      });
      socket.on('error', (error) => {
        try {
          controller.error(error);
        } catch {
          // Already closed.
        }
      });
    },
    cancel() {
      socket.destroy();
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => new Promise<void>((resolve, reject) => socket.write(chunk, (error) => (error ? reject(error) : resolve()))),
    close: () => {
      socket.end();
    },
  });
  return {
    readable,
    writable,
    opened,
    async close() {
      socket.destroy();
    },
    startTls() {
      // As workerd: the plain socket is handed over; its stream wrappers are dead from here on.
      socket.removeAllListeners('data');
      socket.removeAllListeners('end');
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      return wrap(upgrade(socket), 'secureConnect', upgrade);
    },
  };
}

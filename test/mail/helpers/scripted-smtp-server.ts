import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A fake SMTP server on 127.0.0.1 that answers from a script, for what a real
 * server will not do on demand: say nothing, hang up mid-session, answer in
 * several lines or with an unusual code. `answer` gets each command line (and
 * `DATA-END` after a message) and returns the reply, `close` to hang up, or
 * `silent` to say nothing.
 */
export async function startScriptedSmtpServer(options: {
  greeting?: string | 'silent';
  answer?: (line: string) => string | 'close' | 'silent' | undefined;
}): Promise<{ url: string; commands: string[]; close(): Promise<void> }> {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const defaults = (line: string): string => {
    const verb = line.split(' ')[0]!.toUpperCase();
    if (verb === 'EHLO') return '250-scripted.test\r\n250 8BITMIME';
    if (verb === 'DATA') return '354 go ahead';
    if (verb === 'QUIT') return '221 bye';
    return '250 ok';
  };
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    let inData = false;
    const reply = (line: string) => {
      const answer = options.answer?.(line) ?? defaults(line);
      if (answer === 'close') socket.destroy();
      else if (answer !== 'silent') socket.write(`${answer}\r\n`);
      if (line.toUpperCase() === 'DATA' && answer.startsWith('354')) inData = true;
    };
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buffered.indexOf('\r\n.\r\n');
          if (end < 0) return;
          buffered = buffered.slice(end + 5);
          inData = false;
          commands.push('DATA-END');
          reply('DATA-END');
          continue;
        }
        const newline = buffered.indexOf('\r\n');
        if (newline < 0) return;
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 2);
        commands.push(line);
        reply(line);
      }
    });
    if (options.greeting !== 'silent') socket.write(`${options.greeting ?? '220 scripted.test ESMTP'}\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { createJsonLogger, withFields } from '../../src/lib/logger.js';
import { createTestApp } from '../helpers/app.js';

const srcDir = join(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [join(dir, entry.name)] : [],
  );
}

/** A fixed string: a literal, or a choice between literals. */
function isFixed(node: ts.Expression): boolean {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return true;
  if (ts.isParenthesizedExpression(node)) return isFixed(node.expression);
  return ts.isConditionalExpression(node) && isFixed(node.whenTrue) && isFixed(node.whenFalse);
}

/** Every `….logger.info(…)` (and debug, warn, error) call whose event is built from values. */
function eventsBuiltFromValues(): string[] {
  const found: string[] = [];
  // The logger's own module passes events through; every other module names them.
  for (const file of sourceFiles(srcDir).filter((path) => !path.endsWith(join('lib', 'logger.ts')))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && ['debug', 'info', 'warn', 'error'].includes(node.expression.name.text)) {
        const receiver = node.expression.expression;
        const receiverName = ts.isIdentifier(receiver) ? receiver.text : ts.isPropertyAccessExpression(receiver) ? receiver.name.text : '';
        if (/logger$/i.test(receiverName) && (node.arguments.length === 0 || !isFixed(node.arguments[0]!))) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart());
          found.push(`${file.slice(srcDir.length + 1)}:${line + 1}: ${node.arguments[0]?.getText() ?? '(none)'}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe('log lines for operators (issue #20)', () => {
  it('lead with time, level and the event, which no field can replace', () => {
    const lines: string[] = [];
    createJsonLogger('info', (line) => lines.push(line)).warn('outbox message deferred', { event: 'forged', level: 'debug', outboxId: 'o1' });
    expect(Object.entries(JSON.parse(lines[0]!) as Record<string, unknown>)).toEqual([
      ['time', expect.stringMatching(/^\d{4}-\d\d-\d\dT/)],
      ['level', 'warn'],
      ['event', 'outbox message deferred'],
      ['outboxId', 'o1'],
    ]);
  });

  it("carry the request's id on what a request's handlers log", async () => {
    const lines: string[] = [];
    const requestLogger = withFields(createJsonLogger('debug', (line) => lines.push(line)), { requestId: 'req-12345678' });
    requestLogger.error('unhandled error', { error: 'TypeError' });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', event: 'unhandled error', requestId: 'req-12345678', error: 'TypeError' });

    lines.length = 0;
    const t = createTestApp({ logger: createJsonLogger('debug', (line) => lines.push(line)) });
    try {
      t.app.get('/probe-log', (c) => {
        c.get('logger')?.warn('probe from a handler');
        return c.text('ok');
      });
      const res = await t.request('GET', '/probe-log', { token: null, headers: { 'x-request-id': 'probe-request-01' } });
      expect(res.status).toBe(200);
      expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.event === 'probe from a handler')).toMatchObject({ requestId: 'probe-request-01' });
    } finally {
      await t.cleanup();
    }
  });

  it('name each event with a fixed string at every call site, so operators can match it; values go in fields', () => {
    expect(eventsBuiltFromValues()).toEqual([]);
  });
});

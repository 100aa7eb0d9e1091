import { createHash } from 'node:crypto';
import { InvalidCursorError, ListCursor, decodeCursor, encodeCursor } from './list-cursor';

const cursor: ListCursor = {
  tenantId: 'acme',
  filters: { status: 'TASK_STATUS_RUNNING', sessionId: 'session-1' },
  after: { at: 1_795_966_733_115_214_000n, taskId: 'task_d03c65dd-a5e4-405a-8f9a-89d2aa43106b' },
  hintNs: 12_345_678n,
};

describe('list cursor', () => {
  it('decodes to what was encoded, at full precision', () => {
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    const bare: ListCursor = { tenantId: 't', filters: {}, after: { at: 0n, taskId: 'x' } };
    expect(decodeCursor(encodeCursor(bare))).toEqual(bare);
  });

  it('is URL-safe text', () => {
    expect(encodeCursor(cursor)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('refuses every one-character edit and every truncation', () => {
    const text = encodeCursor(cursor);
    for (let i = 0; i < text.length; i++) {
      const replacement = text[i] === 'A' ? 'B' : 'A';
      const edited = text.slice(0, i) + replacement + text.slice(i + 1);
      expect(() => decodeCursor(edited)).toThrow(InvalidCursorError);
      expect(() => decodeCursor(text.slice(0, i))).toThrow(InvalidCursorError);
    }
  });

  it.each([
    ['', 'empty'],
    ['abc', 'no checksum'],
    ['a.b.c', 'three parts'],
  ])('refuses %j (%s)', (text) => {
    expect(() => decodeCursor(text)).toThrow(InvalidCursorError);
  });

  it('refuses well-formed cursors with fields out of shape', () => {
    const forged = (fields: unknown[]): string => {
      // The checksum made as the encoder makes it, so only the fields are wrong.
      const body = Buffer.from(JSON.stringify(fields)).toString('base64url');
      const sum = createHash('sha256')
        .update(`task-list-cursor\n${body}`)
        .digest()
        .subarray(0, 12)
        .toString('base64url');
      return `${body}.${sum}`;
    };
    expect(() => decodeCursor(forged([2, 'acme', null, null, '1', 't', null]))).toThrow(
      InvalidCursorError,
    );
    expect(() => decodeCursor(forged([1, 'acme', null, null, '-1', 't', null]))).toThrow(
      InvalidCursorError,
    );
    expect(() => decodeCursor(forged([1, 'acme', null, null, '1', '', null]))).toThrow(
      InvalidCursorError,
    );
    expect(() => decodeCursor(forged([1, 'acme', null, null, 1, 't', null]))).toThrow(
      InvalidCursorError,
    );
    expect(() => decodeCursor(forged({ v: 1 } as unknown as unknown[]))).toThrow(
      InvalidCursorError,
    );
    expect(decodeCursor(forged([1, 'acme', null, null, '1', 't', null]))).toEqual({
      tenantId: 'acme',
      filters: {},
      after: { at: 1n, taskId: 't' },
      hintNs: undefined,
    });
  });
});

import { canonicalJson } from './canonical-json';

describe('canonicalJson', () => {
  it('writes the same text whatever the key order, at every level', () => {
    const a = JSON.parse('{"b":1,"a":{"y":[1,{"q":2,"p":3}],"x":null}}') as unknown;
    const b = JSON.parse('{"a":{"x":null,"y":[1,{"p":3,"q":2}]},"b":1}') as unknown;
    expect(canonicalJson(a)).toBe('{"a":{"x":null,"y":[1,{"p":3,"q":2}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('keeps array order, and writes what JSON.stringify writes for scalars', () => {
    expect(canonicalJson([3, 'a\n"', true, null, 1.5])).toBe('[3,"a\\n\\"",true,null,1.5]');
    expect(canonicalJson([undefined, { u: undefined }])).toBe('[null,{}]');
  });

  it('treats a "__proto__" member as data', () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":1},"a":1}') as unknown;
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"polluted":1},"a":1}');
  });
});

/**
 * The streaming XML reader (lib/aws/xml-stream.ts) on its own: a document with every construct it
 * reads, cut into chunks anywhere (a name, an entity, a multi-byte character, a CDATA section or a
 * comment across two chunks), as Buffers or as strings, gives the same record.
 */
import { readXml, shape, XmlStreamError } from '../../lib/aws/xml-stream';

/** The document's shape, its strings read as 's' or as shared strings ('S'). */
const rootShape = (str: 's' | 'S') => {
  const TAG = shape([
    ['key', 'Key', str],
    ['value', 'Value', str],
  ]);
  return shape([
  ['requestId', 'RequestId', str],
  [
    'set',
    'Items',
    [
      shape([
        ['aVeryLongElementNameForSplitting', 'Long', str],
        ['description', 'Description', str],
        ['count', 'Count', 'n'],
        ['flag', 'Flag', 'b'],
        ['tagSet', 'Tags', [TAG]],
        ['nested', 'Nested', shape([['id', 'Id', str]], undefined, { complete: true })],
      ]),
    ],
  ],
  ['nextToken', 'NextToken', str],
]);
};
const ROOT = rootShape('s');

// Multi-byte characters of 2, 3 and 4 bytes (é, €, 𝄞) in text, a reference and a CDATA section;
// entities, a comment and a CDATA section inside a leaf; elements read past (one nesting its own
// name); attributes; \r\n; white space between elements; an invalid UTF-8 byte.
const XML = Buffer.concat([
  Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\r\n<!-- a comment with <tags> & -- inside -->\n<Root xmlns="urn:x" a='1'>\n  <requestId>r-é€𝄞</requestId>\n` +
      `  <set>\n    <item>\n      <aVeryLongElementNameForSplitting>long é value</aVeryLongElementNameForSplitting>\n` +
      `      <description>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#x20AC;&#x1D11E; x<!-- c -->y<![CDATA[<z> & é€𝄞]]>\r\nend</description>\n` +
      `      <count>42</count><flag>TRUE</flag>\n` +
      `      <skipped><skipped><item>no</item></skipped><other>1</other></skipped>\n` +
      `      <tagSet><item><key>k1</key><value>v é</value></item><item><key>k2</key><value/></item></tagSet>\n` +
      `      <nested><id>n-1</id><unread>u</unread></nested>\n` +
      `    </item>\n    <item><description>bad `,
  ),
  Buffer.from([0xe2, 0x82]), // a cut 3-byte sequence: one U+FFFD, as Buffer.toString reads it
  Buffer.from(
    ` byte</description><count>0012</count><flag>false</flag><nested/></item>\n  </set>\n  <nextToken>t&#65;</nextToken>\n</Root>\n`,
  ),
]);

const EXPECTED = {
  RequestId: 'r-é€𝄞',
  Items: [
    {
      Long: 'long é value',
      Description: `a & b <c> "d" 'e' é€𝄞 xy<z> & é€𝄞\nend`,
      Count: 42,
      Flag: true,
      Tags: [
        { Key: 'k1', Value: 'v é' },
        { Key: 'k2', Value: '' },
      ],
      Nested: { Id: 'n-1' },
    },
    { Description: 'bad \uFFFD byte', Count: 12, Flag: false, Nested: { Id: undefined } },
  ],
  NextToken: 'tA',
};

const read = (chunks: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>) => readXml(chunks, 'Root', ROOT);

describe('the streaming XML reader', () => {
  it('reads every construct of the document as a whole', async () => {
    expect(await read([XML])).toStrictEqual(EXPECTED);
  });

  it('reads the same at every cut into two chunks, and one byte a chunk', async () => {
    for (let k = 1; k < XML.length; k++) {
      const got = await read([XML.subarray(0, k), XML.subarray(k)]);
      // (Compared only on a difference: a toStrictEqual per cut is slow.)
      if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) expect({ k, got }).toStrictEqual({ k, got: EXPECTED });
    }
    expect(await read(Array.from(XML, (b) => Uint8Array.of(b)))).toStrictEqual(EXPECTED);
  });

  it('reads the same from three chunks cut at pseudo-random places', async () => {
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647) % XML.length;
    for (let n = 0; n < 3000; n++) {
      const [a, b] = [next(), next()].sort((x, y) => x - y);
      const got = await read([XML.subarray(0, a), XML.subarray(a, b), XML.subarray(b)]);
      if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) expect({ a, b, got }).toStrictEqual({ a, b, got: EXPECTED });
    }
  });

  it('reads string chunks, a surrogate pair cut between two of them included', async () => {
    const text = XML.toString('utf8');
    expect(await read([text])).toStrictEqual(EXPECTED);
    const pair = text.indexOf('𝄞');
    expect(await read([text.slice(0, pair + 1), text.slice(pair + 1)])).toStrictEqual(EXPECTED);
    for (let k = 1; k < text.length; k += 7) {
      const got = await read([text.slice(0, k), text.slice(k)]);
      if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) expect({ k, got }).toStrictEqual({ k, got: EXPECTED });
    }
  });

  it('decodes an entity or a multi-byte character cut by a chunk boundary, at each of its bytes', async () => {
    for (const piece of ['&#x1D11E;', '&quot;', '€', '𝄞']) {
      const at = XML.indexOf(piece, XML.indexOf('<description>'));
      for (let k = at + 1; k < at + Buffer.byteLength(piece); k++) {
        expect(await read([XML.subarray(0, k), XML.subarray(k)])).toStrictEqual(EXPECTED);
      }
    }
  });

  it('matches an element name cut by a chunk boundary, in its start and its end tag', async () => {
    const name = 'aVeryLongElementNameForSplitting';
    for (const tag of [`<${name}>`, `</${name}>`]) {
      const at = XML.indexOf(tag);
      for (let k = at + 1; k < at + tag.length; k++) expect(await read([XML.subarray(0, k), XML.subarray(k)])).toStrictEqual(EXPECTED);
    }
  });

  it('throws on a truncated document at every cut, never a partial record', async () => {
    for (let k = 0; k < XML.length - 1; k++) {
      const end = XML.subarray(0, k).toString('latin1').trimEnd();
      if (end.endsWith('</Root>')) continue;
      await expect(read([XML.subarray(0, k)])).rejects.toThrow(XmlStreamError);
    }
  });

  it('reads shared strings (S) as strings, at every cut', async () => {
    const S = rootShape('S');
    expect(await readXml([XML], 'Root', S)).toStrictEqual(EXPECTED);
    for (let k = 1; k < XML.length; k++) {
      const got = await readXml([XML.subarray(0, k), XML.subarray(k)], 'Root', S);
      if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) expect({ k, got }).toStrictEqual({ k, got: EXPECTED });
    }
  });

  it('keeps each shared string to its own value, over more values than it keeps', async () => {
    // 50,000 values of the same lengths (more than the shared strings' slots), each read twice.
    const values = Array.from({ length: 50000 }, (_, n) => `v-${String(n).padStart(6, '0')}`);
    const items = values.map((v, n) => `<item><key>${v}</key><value>${values[(n * 7919) % values.length]}</value></item>`).join('');
    const doc = `<Root><set><item><tagSet>${items}</tagSet></item></set></Root>`;
    const got = (await readXml([doc], 'Root', rootShape('S'))) as { Items: { Tags: { Key: string; Value: string }[] }[] };
    expect(got.Items[0]!.Tags.map((t) => t.Key)).toEqual(values);
    expect(got.Items[0]!.Tags.map((t) => t.Value)).toEqual(values.map((_, n) => values[(n * 7919) % values.length]));
  });

  it('tells a name from a longer one that starts with it, where the same name came before', async () => {
    // After <item>, <description> came last time: <descriptionX> is another element (read past), and so is <descriptio>.
    const doc = Buffer.from(
      '<Root><set><item><description>x</description></item><item><descriptionX>y</descriptionX><descriptio>w</descriptio><description >z</description ></item></set></Root>',
    );
    const want = { Items: [{ Description: 'x' }, { Description: 'z' }] };
    expect(await read([doc])).toStrictEqual(want);
    for (let k = 1; k < doc.length; k++) expect(await read([doc.subarray(0, k), doc.subarray(k)])).toStrictEqual(want);
  });

  it('throws on mismatched tags, across a chunk boundary too', async () => {
    const bad = Buffer.from(XML.toString('latin1').replace('</requestId>', '</requestID>'), 'latin1');
    const at = bad.indexOf('</requestID>') + 5;
    await expect(read([bad])).rejects.toThrow(/mismatched tags <requestId> and <\/requestID>/);
    await expect(read([bad.subarray(0, at), bad.subarray(at)])).rejects.toThrow(/mismatched tags <requestId> and <\/requestID>/);
  });
});

/**
 * Reads the files of a ZIP archive (the function packages `serverless package` writes), with
 * Node's zlib only: `unzip` is not on every machine that runs `npm test`.
 *
 * Layout from the ZIP specification (PKWARE APPNOTE.TXT 4.3): the end-of-central-directory
 * record (signature 0x06054b50) gives the central directory, whose entries (0x02014b50) give each
 * file's name, method (0 stored, 8 deflated), compressed size and local header offset; the local
 * header (0x04034b50) is followed by the data. ZIP64 is not needed for packages of a few MB.
 */
import { inflateRawSync } from 'node:zlib';

/** Every file of the archive by its path inside it. */
export function readZip(archive: Buffer): Map<string, Buffer> {
  const eocd = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a ZIP archive: no end-of-central-directory record');
  const entries = archive.readUInt16LE(eocd + 10);
  let at = archive.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < entries; i++) {
    if (archive.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const method = archive.readUInt16LE(at + 10);
    const compressed = archive.readUInt32LE(at + 20);
    const nameLength = archive.readUInt16LE(at + 28);
    const extraLength = archive.readUInt16LE(at + 30);
    const commentLength = archive.readUInt16LE(at + 32);
    const local = archive.readUInt32LE(at + 42);
    const name = archive.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (archive.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header for ${name}`);
    const start = local + 30 + archive.readUInt16LE(local + 26) + archive.readUInt16LE(local + 28);
    const data = archive.subarray(start, start + compressed);
    if (method === 0) files.set(name, Buffer.from(data));
    else if (method === 8) files.set(name, inflateRawSync(data));
    else throw new Error(`${name}: compression method ${method} is not supported`);
  }
  return files;
}

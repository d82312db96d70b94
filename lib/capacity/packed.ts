/**
 * Text packed for the bundles: Brotli at its best quality, as base64 (the instance-type data is
 * 84 KB as JSON and under 7 KB packed). Node's own zlib, nothing bundled; unpacking once takes
 * about a millisecond. Written by scripts/import-instance-types.ts, read by known-instance-types.ts.
 */
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

export function packText(text: string): string {
  return brotliCompressSync(Buffer.from(text, 'utf8'), { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } }).toString('base64');
}

export function unpackText(packed: string): string {
  return brotliDecompressSync(Buffer.from(packed, 'base64')).toString('utf8');
}
